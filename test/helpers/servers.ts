// Test servers started as child processes (openssl s_server).
import type { ChildProcess } from 'node:child_process';

/** The port `openssl s_server -accept 127.0.0.1:0` listens on: it prints "ACCEPT …:PORT" once its keys are loaded. */
export function sServerPort(server: ChildProcess): Promise<string> {
  return new Promise<string>((resolve) => {
    let text = '';
    server.stdout!.on('data', (d) => {
      text += d;
      const m = /ACCEPT .*:(\d+)/.exec(text);
      if (m) resolve(m[1]);
    });
  });
}
