#!/usr/bin/env bash
#
# make-samples.sh - regenerate dumpguard's core-dump test fixtures.
#
# ***************************************************************************
# *  ALL KEYS PRODUCED BY THIS SCRIPT ARE THROWAWAY TEST KEYS.              *
# *  They are generated fresh on every run, only for dumpguard's own tests, *
# *  and are never used anywhere else. Nothing is signed or encrypted with  *
# *  them. Do NOT reuse them for anything.                                  *
# ***************************************************************************
#
# Outputs (all in the directory holding this script):
#   test-key-rsa2048.pem          RSA-2048 private key, PKCS#8 PEM
#   test-key-rsa2048-pkcs1.der    RSA-2048 private key, PKCS#1 ("traditional") DER
#   test-key-ec-p256.der          EC P-256 private key, PKCS#8 DER
#   core-holdkey-pem.core         gcore of holdkey holding test-key-rsa2048.pem
#   core-holdkey-der.core         gcore of holdkey holding both DER keys
#   offsets.json                  { core: { key file: [byte offsets...] } }
#   README.md                     description + offsets (generated)
#
# How: src/holdkey.c is compiled into a temporary directory (static -Os if
# libc.a is usable, dynamic otherwise). holdkey reads each file given on its
# command line into its own malloc'd heap buffer with read(2), prints
# "ready", and sleeps. We then take a core with gdb's gcore (respecting
# /proc/PID/coredump_filter, which we set to 0x33 = anon private + anon
# shared + ELF headers + private hugepages, i.e. the kernel default) and
# kill the process.
#
# Requirements: bash, gcc, gdb (gcore), openssl, python3, readelf.
# Runnable from any cwd; re-running overwrites all outputs.

set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
OUT="$SCRIPT_DIR"
SRC="$SCRIPT_DIR/src/holdkey.c"

log() { printf '[make-samples] %s\n' "$*" >&2; }
die() { printf '[make-samples] ERROR: %s\n' "$*" >&2; exit 1; }

for tool in gcc gcore openssl python3 readelf; do
    command -v "$tool" >/dev/null 2>&1 || die "required tool not found: $tool"
done
[[ -f "$SRC" ]] || die "missing $SRC"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/dumpguard-samples.XXXXXX")"
HOLD_PIDS=()
cleanup() {
    local pid
    for pid in "${HOLD_PIDS[@]:-}"; do
        [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
    done
    rm -rf -- "$TMP"
}
trap cleanup EXIT

# --- ptrace permission check ---------------------------------------------
if [[ -r /proc/sys/kernel/yama/ptrace_scope ]]; then
    scope="$(cat /proc/sys/kernel/yama/ptrace_scope)"
    if [[ "$scope" != 0 && "$(id -u)" != 0 ]]; then
        die "yama ptrace_scope=$scope: gcore cannot attach. Run as root, or: echo 0 | sudo tee /proc/sys/kernel/yama/ptrace_scope"
    fi
    [[ "$scope" == 3 ]] && die "yama ptrace_scope=3 forbids all ptrace attaches (even root); reboot needed"
fi

# --- build holdkey ---------------------------------------------------------
HOLDKEY="$TMP/holdkey"
CFLAGS=(-Os -Wall -Wextra -s)
libc_a="$(gcc -print-file-name=libc.a)"
if [[ "$libc_a" == /* && -f "$libc_a" ]] \
    && gcc -static "${CFLAGS[@]}" -o "$HOLDKEY" "$SRC" 2>"$TMP/cc-static.log"; then
    log "built holdkey (static, $libc_a)"
else
    log "static build unavailable, falling back to dynamic"
    gcc "${CFLAGS[@]}" -o "$HOLDKEY" "$SRC"
fi

# --- fresh TEST keys -------------------------------------------------------
KEY_PEM="test-key-rsa2048.pem"
KEY_RSA_DER="test-key-rsa2048-pkcs1.der"
KEY_EC_DER="test-key-ec-p256.der"

log "generating fresh TEST keys"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$TMP/$KEY_PEM" 2>/dev/null
# NB: with OpenSSL 3.0, `genpkey -algorithm EC -outform DER` emits a SEC1
# ECPrivateKey ("30 77 02 01 01 ..."), not PKCS#8, so convert explicitly.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -pkeyopt ec_param_enc:named_curve 2>/dev/null \
    | openssl pkcs8 -topk8 -nocrypt -outform DER -out "$TMP/$KEY_EC_DER"
openssl genrsa 2048 2>/dev/null \
    | openssl rsa -traditional -outform DER -out "$TMP/$KEY_RSA_DER" 2>/dev/null

# Validate formats.
head -n1 "$TMP/$KEY_PEM" | grep -qx -- '-----BEGIN PRIVATE KEY-----' \
    || die "$KEY_PEM is not PKCS#8 PEM"
openssl pkey -in "$TMP/$KEY_PEM" -noout
openssl pkey -inform DER -in "$TMP/$KEY_EC_DER" -noout
openssl rsa -inform DER -in "$TMP/$KEY_RSA_DER" -noout -check >/dev/null
python3 - "$TMP/$KEY_RSA_DER" "$TMP/$KEY_EC_DER" <<'PY'
import sys
rsa = open(sys.argv[1], 'rb').read()
ec = open(sys.argv[2], 'rb').read()
# PKCS#1 RSAPrivateKey: 30 82 LL LL | 02 01 00 (version) | 02 82 01 01 00 ... (modulus)
assert rsa[:2] == b'\x30\x82', 'RSA DER does not start with 30 82'
assert rsa[4:7] == b'\x02\x01\x00', 'RSA DER: no INTEGER version 0'
assert rsa[7] == 0x02, 'RSA DER: second element is not an INTEGER (PKCS#8?)'
# PKCS#8 PrivateKeyInfo: 30 .. | 02 01 00 | 30 .. (AlgorithmIdentifier)
i = 3 if ec[1] == 0x81 else 2
assert ec[0] == 0x30 and ec[i:i+3] == b'\x02\x01\x00' and ec[i+3] == 0x30, 'EC DER is not PKCS#8'
PY
openssl asn1parse -inform DER -in "$TMP/$KEY_RSA_DER" | head -n3 | grep -q 'INTEGER' \
    || die "$KEY_RSA_DER asn1parse check failed"

# --- run holdkey and take cores -------------------------------------------
# make_core <core-name> <key-file>...
make_core() {
    local core="$1"; shift
    local ready="$TMP/$core.stdout" pid i
    : >"$ready"
    (cd "$TMP" && exec "$HOLDKEY" "$@") >"$ready" </dev/null &
    pid=$!
    HOLD_PIDS+=("$pid")
    for ((i = 0; i < 200; i++)); do
        grep -qx ready "$ready" 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || die "holdkey exited early for $core"
        sleep 0.05
    done
    grep -qx ready "$ready" || die "holdkey did not become ready for $core"

    # Kernel-default filter: anonymous private+shared, ELF headers, private
    # huge pages. gdb honours it ("set use-coredump-filter on" is default),
    # which keeps the heap but skips file-backed text/rodata.
    echo 0x33 >"/proc/$pid/coredump_filter"

    if ! gcore -o "$TMP/gcore-$core" "$pid" >"$TMP/gcore-$core.log" 2>&1; then
        cat "$TMP/gcore-$core.log" >&2
        die "gcore failed for $core"
    fi
    [[ -s "$TMP/gcore-$core.$pid" ]] || { cat "$TMP/gcore-$core.log" >&2; die "gcore produced no file for $core"; }
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    mv -f "$TMP/gcore-$core.$pid" "$OUT/$core"
    chmod 0644 "$OUT/$core"
    log "wrote $core ($(stat -c %s "$OUT/$core") bytes)"
}

CORE_PEM="core-holdkey-pem.core"
CORE_DER="core-holdkey-der.core"

make_core "$CORE_PEM" "$KEY_PEM"
make_core "$CORE_DER" "$KEY_RSA_DER" "$KEY_EC_DER"

# Install keys next to the cores (only after both cores succeeded).
for k in "$KEY_PEM" "$KEY_RSA_DER" "$KEY_EC_DER"; do
    install -m 0644 "$TMP/$k" "$OUT/$k"
done

# --- sanity: valid ELF cores ----------------------------------------------
for c in "$CORE_PEM" "$CORE_DER"; do
    readelf -h "$OUT/$c" | grep -q 'Type:[[:space:]]*CORE' || die "$c is not an ELF core"
    readelf -lW "$OUT/$c" | grep -q '^ *LOAD' || die "$c has no PT_LOAD segments"
    notes="$(readelf -nW "$OUT/$c")"
    grep -q NT_PRSTATUS <<<"$notes" || die "$c has no NT_PRSTATUS note"
    grep -q NT_FILE <<<"$notes" || die "$c has no NT_FILE note"
done

# --- offsets.json + README.md ---------------------------------------------
python3 - "$OUT" "$CORE_PEM:$KEY_PEM" "$CORE_DER:$KEY_RSA_DER,$KEY_EC_DER" <<'PY'
import json, os, sys
out = sys.argv[1]
result = {}
for spec in sys.argv[2:]:
    core, keys = spec.split(':', 1)
    data = open(os.path.join(out, core), 'rb').read()
    result[core] = {}
    for key in keys.split(','):
        needle = open(os.path.join(out, key), 'rb').read()
        offs, i = [], data.find(needle)
        while i != -1:
            offs.append(i)
            i = data.find(needle, i + 1)
        if not offs:
            sys.exit(f'{key} not found in {core}')
        result[core][key] = offs
with open(os.path.join(out, 'offsets.json'), 'w') as f:
    json.dump(result, f, indent=2)
    f.write('\n')

def size(name):
    return os.path.getsize(os.path.join(out, name))

rows = []
for core, keys in result.items():
    for key, offs in keys.items():
        rows.append(f'| `{core}` | `{key}` | {size(key)} | '
                    + ', '.join(f'{o} (0x{o:x})' for o in offs)
                    + f' | {len(offs)} |')

readme = f"""# dumpguard test samples

> **These are TEST keys, generated solely for dumpguard's own test suite.**
> They are freshly generated by `make-samples.sh` on each run, have never
> been used for anything, and must never be used for anything. Finding them
> is exactly what dumpguard is supposed to do.

Everything in this directory except `src/holdkey.c` and `make-samples.sh`
(including this README) is generated by `samples/make-samples.sh`. Run it
from any directory; it needs gcc, gdb (gcore), openssl, python3, readelf and
ptrace rights (root, or yama `ptrace_scope` 0). Regenerating produces NEW
keys and cores, so offsets change; always read them from `offsets.json`.

## Files

| File | Size (bytes) | What |
|------|-------------:|------|
| `test-key-rsa2048.pem` | {size('test-key-rsa2048.pem')} | RSA-2048, PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048` |
| `test-key-rsa2048-pkcs1.der` | {size('test-key-rsa2048-pkcs1.der')} | RSA-2048, PKCS#1 RSAPrivateKey DER (`30 82 ..`, version INTEGER then modulus). `openssl genrsa 2048 \\| openssl rsa -traditional -outform DER` |
| `test-key-ec-p256.der` | {size('test-key-ec-p256.der')} | EC P-256 (named curve), PKCS#8 PrivateKeyInfo DER. `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \\| openssl pkcs8 -topk8 -nocrypt -outform DER` (OpenSSL 3.0 `genpkey -outform DER` alone gives SEC1, not PKCS#8) |
| `core-holdkey-pem.core` | {size('core-holdkey-pem.core')} | ELF core (gcore) of `holdkey test-key-rsa2048.pem` |
| `core-holdkey-der.core` | {size('core-holdkey-der.core')} | ELF core (gcore) of `holdkey test-key-rsa2048-pkcs1.der test-key-ec-p256.der` |
| `offsets.json` | - | `{{ "<core>": {{ "<key file>": [byte offsets] }} }}` |
| `src/holdkey.c` | - | Helper: reads each argument file via read(2) into its own malloc'd buffer, prints `ready`, sleeps until killed |

## How the cores were made

1. `src/holdkey.c` is compiled to a temp dir (`gcc -static -Os -s`; dynamic
   fallback if static linking is unavailable). Binaries are not committed.
2. holdkey is started on the key file(s); once it prints `ready`, its
   `/proc/PID/coredump_filter` is set to `0x33` (anon private, anon shared,
   ELF headers, private hugepages) and `gcore -o PREFIX PID` is run (gdb
   honours the filter by default). The output `PREFIX.PID` is renamed to
   the fixed name and the process is killed.
3. The key bytes live in the heap (anonymous private mapping) segment of
   the core. Offsets below are file offsets into the core where the key
   file's exact bytes begin (found by exact byte search).

## Key offsets (from `offsets.json`)

| Core | Key file | Key size | Offset(s) in core | Occurrences |
|------|----------|---------:|-------------------|------------:|
""" + '\n'.join(rows) + '\n'
with open(os.path.join(out, 'README.md'), 'w') as f:
    f.write(readme)
print(json.dumps(result, indent=2))
PY

# The findings dumpguard reports for each core, as the README's first command shows them
# (paths relative to the project root). Needs a build; test/samples.test.ts compares against it.
ROOT="$(cd "$OUT/.." && pwd)"
if [ -f "$ROOT/dist/cli.js" ]; then
  for core in core-holdkey-pem.core core-holdkey-der.core; do
    (cd "$ROOT" && node dist/cli.js scan "samples/$core" --format jsonl --jobs 1 2>/dev/null > "samples/$core.expected.jsonl") || true
  done
else
  log "dist/cli.js missing: run 'npm run build' and this script again to write the .expected.jsonl files"
fi

log "done"
ls -l "$OUT"/*.core "$OUT"/test-key-* "$OUT"/offsets.json "$OUT"/README.md >&2
