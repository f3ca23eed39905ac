// The reference for the zero-page maps the tests check: found here byte by byte, not by src/.

/** The runs of 4 KiB pages of `bytes` (the last one may be short) that hold only zeros, [start, end) pairs. */
export function zeroPageRuns(bytes: Uint8Array): number[] {
  const runs: number[] = [];
  for (let page = 0; page < bytes.length; page += 4096) {
    const end = Math.min(bytes.length, page + 4096);
    if (!bytes.subarray(page, end).every((b) => b === 0)) continue;
    if (runs.length > 0 && runs[runs.length - 1] === page) runs[runs.length - 1] = end;
    else runs.push(page, end);
  }
  return runs;
}
