;; The multi-needle anchor search (src/detectors/anchor-filter.ts drives it), and below it the
;; word passes that run over the same chunk memory: the raw-key search's word probe, the AES
;; relation filter and the entropy detector's word classes.
;;
;; Teddy, the SIMD filter of Hyperscan and Rust's aho-corasick: every needle is reduced to a
;; fingerprint of 2 or 3 bytes and put in one of 8 buckets. For each fingerprint position j
;; two 16-byte tables map the low and the high nibble of a byte to the buckets whose
;; fingerprint byte j has that nibble. Sixteen window positions are tested at once: six
;; swizzles and ANDs leave, per lane, the buckets that may start there. Nearly every block of
;; real data leaves none; the rest are confirmed byte by byte against the bucket's needles.
;;
;; Memory layout (addresses chosen by the caller, see anchor-filter.ts):
;;   0..95     nibble tables lo0 hi0 lo1 hi1 lo2 hi2 (16 bytes each)
;;   96..111   scratch: the lane masks of a block with candidates
;;   pageMap   one byte per 4 KiB page of the haystack (from its start), set to 1 by `scan` when
;;             a non-zero byte of that page was scanned: the caller clears it per haystack, and
;;             the pages still 0 after every position was scanned are all zeros
;;   124       the output pointer after a call
;;   buckets   8 × (i32 first needle entry address, i32 entry count)
;;   entries   16 bytes each: i32 needle bytes address, i32 length, i32 shift, i32 needle id
;;   out       8 bytes per hit: i32 needle start (relative to data), i32 needle id
;;   data      the haystack, followed by at least 64 readable bytes
(module
  (memory (export "memory") 1)

  ;; Scans window positions [from, to) of the haystack at `data` (length dataLength).
  ;; A hit is a position where a whole needle lies inside the haystack; it is written as
  ;; (needle start, needle id). Stops early, before a block, when fewer than `reserve` bytes
  ;; of output space are left; returns the window position to resume from (== to when done)
  ;; and leaves the output pointer at address 124. Marks the pages with a non-zero byte at `pageMap`.
  (func (export "scan")
    (param $data i32) (param $dataLength i32) (param $from i32) (param $to i32)
    (param $out i32) (param $outEnd i32) (param $reserve i32) (param $buckets i32) (param $pageMap i32)
    (result i32)
    (local $lo0 v128) (local $hi0 v128) (local $lo1 v128) (local $hi1 v128) (local $lo2 v128) (local $hi2 v128)
    (local $nibble v128) (local $v v128) (local $m v128) (local $any v128)
    (local $i i32) (local $pageEnd i32) (local $z i32) (local $w i32)
    (local $lanes i32) (local $lane i32) (local $at i32) (local $set i32) (local $bucket i32)
    (local $entry i32) (local $entryEnd i32) (local $start i32) (local $length i32) (local $needle i32) (local $k i32)

    (local.set $lo0 (v128.load offset=0 (i32.const 0)))
    (local.set $hi0 (v128.load offset=16 (i32.const 0)))
    (local.set $lo1 (v128.load offset=32 (i32.const 0)))
    (local.set $hi1 (v128.load offset=48 (i32.const 0)))
    (local.set $lo2 (v128.load offset=64 (i32.const 0)))
    (local.set $hi2 (v128.load offset=80 (i32.const 0)))
    (local.set $nibble (i8x16.splat (i32.const 15)))

    (local.set $i (local.get $from))
    (block $done
      (loop $pages
        (br_if $done (i32.ge_u (local.get $i) (local.get $to)))
        ;; The rest of this 4 KiB page (pages counted from the haystack's start).
        (local.set $pageEnd (i32.add (i32.and (local.get $i) (i32.const -4096)) (i32.const 4096)))
        (if (i32.gt_u (local.get $pageEnd) (local.get $to)) (then (local.set $pageEnd (local.get $to))))

        ;; Every fingerprint opens on a non-zero byte, so a run of zeros holds no window:
        ;; most of a core is zero pages, skipped with one OR per 64 bytes. The bytes past
        ;; pageEnd (the end of this call's range inside the page) are not looked at: they may
        ;; not be read yet, and the page map must say zero for a page whose bytes are.
        (local.set $any (v128.const i64x2 0 0))
        (local.set $z (local.get $i))
        (block $zeroDone
          (loop $zero
            (br_if $zeroDone (i32.ge_u (local.get $z) (local.get $pageEnd)))
            (local.set $at (i32.add (local.get $data) (local.get $z)))
            (if (i32.le_u (i32.add (local.get $z) (i32.const 64)) (local.get $pageEnd))
              (then
                (local.set $any
                  (v128.or (local.get $any)
                    (v128.or
                      (v128.or (v128.load offset=0 (local.get $at)) (v128.load offset=16 (local.get $at)))
                      (v128.or (v128.load offset=32 (local.get $at)) (v128.load offset=48 (local.get $at))))))
                (local.set $z (i32.add (local.get $z) (i32.const 64))))
              (else
                (local.set $any (v128.or (local.get $any) (i32x4.splat (i32.load8_u (local.get $at)))))
                (local.set $z (i32.add (local.get $z) (i32.const 1)))))
            (br $zero)))

        (if (v128.any_true (local.get $any))
          (then
            ;; This page is not all zeros (a page scanned in parts is zeros only if every part is).
            (i32.store8 (i32.add (local.get $pageMap) (i32.shr_u (local.get $i) (i32.const 12))) (i32.const 1))
            (local.set $w (local.get $i))
            (block $pageDone
              (loop $blocks
                (br_if $pageDone (i32.ge_u (local.get $w) (local.get $pageEnd)))
                (if (i32.gt_s (i32.add (local.get $out) (local.get $reserve)) (local.get $outEnd))
                  (then
                    (i32.store offset=124 (i32.const 0) (local.get $out))
                    (return (local.get $w))))
                (local.set $at (i32.add (local.get $data) (local.get $w)))
                (local.set $v (v128.load offset=0 (local.get $at)))
                (local.set $m
                  (v128.and
                    (i8x16.swizzle (local.get $lo0) (v128.and (local.get $v) (local.get $nibble)))
                    (i8x16.swizzle (local.get $hi0) (i8x16.shr_u (local.get $v) (i32.const 4)))))
                (local.set $v (v128.load offset=1 (local.get $at)))
                (local.set $m
                  (v128.and (local.get $m)
                    (v128.and
                      (i8x16.swizzle (local.get $lo1) (v128.and (local.get $v) (local.get $nibble)))
                      (i8x16.swizzle (local.get $hi1) (i8x16.shr_u (local.get $v) (i32.const 4))))))
                (local.set $v (v128.load offset=2 (local.get $at)))
                (local.set $m
                  (v128.and (local.get $m)
                    (v128.and
                      (i8x16.swizzle (local.get $lo2) (v128.and (local.get $v) (local.get $nibble)))
                      (i8x16.swizzle (local.get $hi2) (i8x16.shr_u (local.get $v) (i32.const 4))))))

                (if (v128.any_true (local.get $m))
                  (then
                    (v128.store offset=96 (i32.const 0) (local.get $m))
                    (local.set $lanes (i8x16.bitmask (i8x16.ne (local.get $m) (v128.const i64x2 0 0))))
                    (block $lanesDone
                      (loop $eachLane
                        (br_if $lanesDone (i32.eqz (local.get $lanes)))
                        (local.set $lane (i32.ctz (local.get $lanes)))
                        (local.set $lanes (i32.and (local.get $lanes) (i32.sub (local.get $lanes) (i32.const 1))))
                        ;; Lanes past the page belong to the next page (or, past `to`, to no one).
                        (br_if $lanesDone (i32.ge_u (i32.add (local.get $w) (local.get $lane)) (local.get $pageEnd)))
                        (local.set $set (i32.load8_u offset=96 (local.get $lane)))
                        (block $bucketsDone
                          (loop $eachBucket
                            (br_if $bucketsDone (i32.eqz (local.get $set)))
                            (local.set $bucket (i32.ctz (local.get $set)))
                            (local.set $set (i32.and (local.get $set) (i32.sub (local.get $set) (i32.const 1))))
                            (local.set $entry (i32.load offset=0 (i32.add (local.get $buckets) (i32.shl (local.get $bucket) (i32.const 3)))))
                            (local.set $entryEnd
                              (i32.add (local.get $entry)
                                (i32.shl (i32.load offset=4 (i32.add (local.get $buckets) (i32.shl (local.get $bucket) (i32.const 3)))) (i32.const 4))))
                            (block $entriesDone
                              (loop $eachEntry
                                (br_if $entriesDone (i32.ge_u (local.get $entry) (local.get $entryEnd)))
                                (local.set $needle (i32.load offset=0 (local.get $entry)))
                                (local.set $length (i32.load offset=4 (local.get $entry)))
                                (local.set $start (i32.sub (i32.add (local.get $w) (local.get $lane)) (i32.load offset=8 (local.get $entry))))
                                (if (i32.and
                                      (i32.ge_s (local.get $start) (i32.const 0))
                                      (i32.le_s (i32.add (local.get $start) (local.get $length)) (local.get $dataLength)))
                                  (then
                                    (local.set $at (i32.add (local.get $data) (local.get $start)))
                                    (local.set $k (i32.const 0))
                                    (block $differs
                                      (loop $compare
                                        (if (i32.ge_u (local.get $k) (local.get $length))
                                          (then
                                            (i32.store offset=0 (local.get $out) (local.get $start))
                                            (i32.store offset=4 (local.get $out) (i32.load offset=12 (local.get $entry)))
                                            (local.set $out (i32.add (local.get $out) (i32.const 8)))
                                            (br $differs)))
                                        (br_if $differs
                                          (i32.ne
                                            (i32.load8_u (i32.add (local.get $at) (local.get $k)))
                                            (i32.load8_u (i32.add (local.get $needle) (local.get $k)))))
                                        (local.set $k (i32.add (local.get $k) (i32.const 1)))
                                        (br $compare)))))
                                (local.set $entry (i32.add (local.get $entry) (i32.const 16)))
                                (br $eachEntry)))
                            (br $eachBucket)))
                        (br $eachLane)))))
                (local.set $w (i32.add (local.get $w) (i32.const 16)))
                (br $blocks)))))
        (local.set $i (local.get $pageEnd))
        (br $pages)))
    (i32.store offset=124 (i32.const 0) (local.get $out))
    (local.get $to))

  ;; The raw-key search's word probe (src/raw/occurrences.ts): one 32-bit word in every `step`
  ;; words of [from, to) is looked up in an open-addressing table of pattern words (keys,
  ;; refs: 0 = empty slot), behind a 16 KiB filter. Every slot
  ;; whose key equals the word is written as (word index, slot), in probe order: JS confirms
  ;; the whole pattern. Stops early, before a word, when fewer than `reserve` output bytes
  ;; are left (the longest probe chain's worth); returns the word index to resume from.
  (func (export "probe")
    (param $data i32) (param $from i32) (param $to i32) (param $step i32)
    (param $keys i32) (param $refs i32) (param $mask i32) (param $shift i32) (param $filter i32)
    (param $out i32) (param $outEnd i32) (param $reserve i32)
    (result i32)
    (local $i i32) (local $at i32) (local $stepBytes i32)
    (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32) (local $f i32) (local $u i32)
    (local.set $i (local.get $from))
    (local.set $stepBytes (i32.shl (local.get $step) (i32.const 2)))
    ;; Four words at a time while four fit and their output would: four independent loads,
    ;; hashes and filter tests, one branch (nearly every group of random words stops there;
    ;; one word at a time the loop waited on each word's chain of loads: 15 cycles a word).
    (block $groupsDone
      (loop $groups
        (br_if $groupsDone (i32.ge_u (i32.add (local.get $i) (i32.mul (local.get $step) (i32.const 3))) (local.get $to)))
        (br_if $groupsDone (i32.gt_s (i32.add (local.get $out) (i32.shl (local.get $reserve) (i32.const 2))) (local.get $outEnd)))
        (local.set $at (i32.add (local.get $data) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $w0 (i32.load (local.get $at)))
        (local.set $w1 (i32.load (i32.add (local.get $at) (local.get $stepBytes))))
        (local.set $w2 (i32.load (i32.add (local.get $at) (i32.shl (local.get $stepBytes) (i32.const 1)))))
        (local.set $w3 (i32.load (i32.add (local.get $at) (i32.mul (local.get $stepBytes) (i32.const 3)))))
        ;; The filter, a blocked Bloom filter (src/raw/occurrences.ts builds it): the top 12 bits
        ;; of the table's hash choose one of 4096 words (16 KiB, in L1), the top 10 of a second
        ;; hash two bits in it; a word passes when both are set (a shift count is taken mod 32:
        ;; (f >> b) & 1 is bit b of f). Written out for each word: V8 did not inline a function
        ;; for it, and the calls took as long as the rest of the loop.
        (if (i32.and (i32.const 1) (i32.or
              (i32.or
                (i32.and
                (i32.shr_u (local.tee $f (i32.load (i32.add (local.get $filter) (i32.shl (i32.shr_u (i32.mul (local.get $w0) (i32.const 0x9e3779b1)) (i32.const 20)) (i32.const 2)))))
                  (i32.shr_u (local.tee $u (i32.mul (local.get $w0) (i32.const 0x85ebca6b))) (i32.const 27)))
                (i32.shr_u (local.get $f) (i32.shr_u (local.get $u) (i32.const 22))))
                (i32.and
                (i32.shr_u (local.tee $f (i32.load (i32.add (local.get $filter) (i32.shl (i32.shr_u (i32.mul (local.get $w1) (i32.const 0x9e3779b1)) (i32.const 20)) (i32.const 2)))))
                  (i32.shr_u (local.tee $u (i32.mul (local.get $w1) (i32.const 0x85ebca6b))) (i32.const 27)))
                (i32.shr_u (local.get $f) (i32.shr_u (local.get $u) (i32.const 22)))))
              (i32.or
                (i32.and
                (i32.shr_u (local.tee $f (i32.load (i32.add (local.get $filter) (i32.shl (i32.shr_u (i32.mul (local.get $w2) (i32.const 0x9e3779b1)) (i32.const 20)) (i32.const 2)))))
                  (i32.shr_u (local.tee $u (i32.mul (local.get $w2) (i32.const 0x85ebca6b))) (i32.const 27)))
                (i32.shr_u (local.get $f) (i32.shr_u (local.get $u) (i32.const 22))))
                (i32.and
                (i32.shr_u (local.tee $f (i32.load (i32.add (local.get $filter) (i32.shl (i32.shr_u (i32.mul (local.get $w3) (i32.const 0x9e3779b1)) (i32.const 20)) (i32.const 2)))))
                  (i32.shr_u (local.tee $u (i32.mul (local.get $w3) (i32.const 0x85ebca6b))) (i32.const 27)))
                (i32.shr_u (local.get $f) (i32.shr_u (local.get $u) (i32.const 22)))))))
          (then
            (local.set $out (call $probeWord (local.get $w0) (local.get $i) (local.get $keys) (local.get $refs) (local.get $mask) (local.get $shift) (local.get $filter) (local.get $out)))
            (local.set $out (call $probeWord (local.get $w1) (i32.add (local.get $i) (local.get $step)) (local.get $keys) (local.get $refs) (local.get $mask) (local.get $shift) (local.get $filter) (local.get $out)))
            (local.set $out (call $probeWord (local.get $w2) (i32.add (local.get $i) (i32.shl (local.get $step) (i32.const 1))) (local.get $keys) (local.get $refs) (local.get $mask) (local.get $shift) (local.get $filter) (local.get $out)))
            (local.set $out (call $probeWord (local.get $w3) (i32.add (local.get $i) (i32.mul (local.get $step) (i32.const 3))) (local.get $keys) (local.get $refs) (local.get $mask) (local.get $shift) (local.get $filter) (local.get $out)))))
        (local.set $i (i32.add (local.get $i) (i32.shl (local.get $step) (i32.const 2))))
        (br $groups)))
    ;; The rest one word at a time.
    (block $done
      (loop $words
        (br_if $done (i32.ge_u (local.get $i) (local.get $to)))
        (if (i32.gt_s (i32.add (local.get $out) (local.get $reserve)) (local.get $outEnd))
          (then
            (i32.store offset=124 (i32.const 0) (local.get $out))
            (return (local.get $i))))
        (local.set $out (call $probeWord (i32.load (i32.add (local.get $data) (i32.shl (local.get $i) (i32.const 2)))) (local.get $i) (local.get $keys) (local.get $refs) (local.get $mask) (local.get $shift) (local.get $filter) (local.get $out)))
        (local.set $i (i32.add (local.get $i) (local.get $step)))
        (br $words)))
    (i32.store offset=124 (i32.const 0) (local.get $out))
    (local.get $to))

  ;; One word of the probe: nothing for a zero word or one the filter stops; else every slot of
  ;; its chain whose key equals it, written as (word index, slot). Returns the output pointer.
  (func $probeWord
    (param $word i32) (param $i i32) (param $keys i32) (param $refs i32) (param $mask i32) (param $shift i32) (param $filter i32) (param $out i32)
    (result i32)
    (local $product i32) (local $h i32) (local $r i32) (local $f i32) (local $u i32)
    (if (local.get $word)
      (then
        (local.set $product (i32.mul (local.get $word) (i32.const 0x9e3779b1)))
        (if (i32.and (i32.const 1) (i32.and
                (i32.shr_u (local.tee $f (i32.load (i32.add (local.get $filter) (i32.shl (i32.shr_u (i32.mul (local.get $word) (i32.const 0x9e3779b1)) (i32.const 20)) (i32.const 2)))))
                  (i32.shr_u (local.tee $u (i32.mul (local.get $word) (i32.const 0x85ebca6b))) (i32.const 27)))
                (i32.shr_u (local.get $f) (i32.shr_u (local.get $u) (i32.const 22)))))
          (then
            (local.set $h (i32.shr_u (local.get $product) (local.get $shift)))
            (block $chainDone
              (loop $chain
                (local.set $r (i32.load (i32.add (local.get $refs) (i32.shl (local.get $h) (i32.const 2)))))
                (br_if $chainDone (i32.eqz (local.get $r)))
                (if (i32.eq (i32.load (i32.add (local.get $keys) (i32.shl (local.get $h) (i32.const 2)))) (local.get $word))
                  (then
                    (i32.store offset=0 (local.get $out) (local.get $i))
                    (i32.store offset=4 (local.get $out) (local.get $h))
                    (local.set $out (i32.add (local.get $out) (i32.const 8)))))
                (local.set $h (i32.and (i32.add (local.get $h) (i32.const 1)) (local.get $mask)))
                (br $chain)))))))
    (local.get $out))

  ;; AES key schedule relations (src/detectors/aes.ts): a filter for relationLags there. For
  ;; every word j of [from, to) of the 32-bit words at `data` (from >= 8; words j-8 .. j+8 are
  ;; read), whether d = W[j] ^ W[j-1] equals W[j+lag] in a non-zero low or high 16 bits for a
  ;; lag of (-4, -6, -8, 4, 2, 8): what a relation with at most one flipped bit does (d's halves
  ;; are zero once in 32,768 schedule words), and random words do once in 5,000. Such words are written as (j, 0): JS works out the lags and
  ;; the rest of the conditions, exactly. Blocks of 16 words with no byte >= 0x80 in W[j-1 ..
  ;; j+15] are skipped (no word there can relate). Works in blocks of 16 words while a whole
  ;; block fits before `to` (the caller does the rest), stops early before a block when fewer
  ;; than 128 output bytes are left; returns the word to resume from.
  (func (export "aesRelations")
    (param $data i32) (param $from i32) (param $to i32) (param $out i32) (param $outEnd i32)
    (result i32)
    (local $j i32) (local $base i32) (local $q i32) (local $lanes i32)
    (local $d v128) (local $nonZero v128) (local $any v128) (local $high v128)
    (local.set $high (v128.const i32x4 0x80808080 0x80808080 0x80808080 0x80808080))
    (local.set $j (local.get $from))
    (block $done
      (loop $blocks
        (br_if $done (i32.gt_s (i32.add (local.get $j) (i32.const 16)) (local.get $to)))
        (if (i32.gt_s (i32.add (local.get $out) (i32.const 128)) (local.get $outEnd))
          (then
            (i32.store offset=124 (i32.const 0) (local.get $out))
            (return (local.get $j))))
        ;; base = &W[j-8]: load offsets are unsigned, so every word is addressed from there.
        (local.set $base (i32.add (local.get $data) (i32.shl (i32.sub (local.get $j) (i32.const 8)) (i32.const 2))))
        (if (v128.any_true
              (v128.and (local.get $high)
                (v128.or
                  (v128.or (v128.load offset=28 (local.get $base)) (v128.load offset=44 (local.get $base)))
                  (v128.or (v128.load offset=60 (local.get $base))
                    (v128.or (v128.load offset=76 (local.get $base)) (v128.load offset=80 (local.get $base)))))))
          (then
            (local.set $q (i32.const 0))
            (loop $vectors
              (local.set $d (v128.xor (v128.load offset=32 (local.get $base)) (v128.load offset=28 (local.get $base))))
              ;; Per lag, non-zero 16-bit halves of d equal to those of W[j+lag]; a word passes
              ;; when either half does (a zero half of d matches the zero halves of pointers and
              ;; small integers, not of schedule words).
              (local.set $nonZero (v128.not (i16x8.eq (local.get $d) (v128.const i64x2 0 0))))
              (local.set $any
                (v128.and (local.get $nonZero)
                  (v128.or
                    (v128.or
                      (v128.or (i16x8.eq (local.get $d) (v128.load offset=16 (local.get $base))) (i16x8.eq (local.get $d) (v128.load offset=8 (local.get $base))))
                      (v128.or (i16x8.eq (local.get $d) (v128.load offset=0 (local.get $base))) (i16x8.eq (local.get $d) (v128.load offset=48 (local.get $base)))))
                    (v128.or (i16x8.eq (local.get $d) (v128.load offset=40 (local.get $base))) (i16x8.eq (local.get $d) (v128.load offset=64 (local.get $base)))))))
              (if (v128.any_true (local.get $any))
                (then
                  (local.set $lanes (i32x4.bitmask (i32x4.ne (local.get $any) (v128.const i64x2 0 0))))
                  (loop $eachLane
                    (i32.store offset=0 (local.get $out)
                      (i32.add (i32.add (local.get $j) (i32.shl (local.get $q) (i32.const 2))) (i32.ctz (local.get $lanes))))
                    (i32.store offset=4 (local.get $out) (i32.const 0))
                    (local.set $out (i32.add (local.get $out) (i32.const 8)))
                    (local.set $lanes (i32.and (local.get $lanes) (i32.sub (local.get $lanes) (i32.const 1))))
                    (br_if $eachLane (local.get $lanes)))))
              (local.set $base (i32.add (local.get $base) (i32.const 16)))
              (local.set $q (i32.add (local.get $q) (i32.const 1)))
              (br_if $vectors (i32.lt_u (local.get $q) (i32.const 4))))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $blocks)))
    (i32.store offset=124 (i32.const 0) (local.get $out))
    (local.get $j))

  ;; Candidate windows of the raw-key search (src/raw/verify.ts, keyWindows): the positions x
  ;; = from, from + step, ... below `to` (the caller keeps x + width within the bytes) that are
  ;; taken, a window of `width` bytes at each, and that pass the byte filters of a private
  ;; integer; each is written as (x, 0). A position is taken when takeAlign is not 0 and
  ;; (phase + x) is a multiple of it (phase: the absolute offset of data, mod 8), or when
  ;; `elements` is not 0 and the 8 bytes before x are an allocation header of this window:
  ;;   a HotSpot array of `elements` elements: the count at x-4 after a non-zero word at x-8,
  ;;     or the count at x-8 and four zero bytes at x-4;
  ;;   with glibcSize not 0, a glibc malloc chunk of that size: (x-8) & ~7 = glibcSize, the
  ;;     other 7 bytes zero.
  ;; The filters read the integer's bytes in its form (0 big-endian; 1 little-endian; 2 32-bit
  ;; words most significant first, each little-endian): its top byte at most topMax; with
  ;; `prime`, a non-zero top byte, an odd lowest byte and top six bytes (as two 24-bit halves)
  ;; at least (boundHi, boundLo), and no factor 3 to 17; then at least distinctMin distinct values among the
  ;; distinctCount bytes from x, counted with 256 i32 stamps at `seen` (cleared here). Stops
  ;; early, before a position, when fewer than 8 output bytes are left; returns the position
  ;; to resume from.
  (func (export "keyWindows")
    (param $data i32) (param $from i32) (param $to i32) (param $step i32) (param $phase i32)
    (param $takeAlign i32) (param $elements i32) (param $glibcSize i32)
    (param $width i32) (param $form i32) (param $topMax i32) (param $prime i32)
    (param $boundHi i32) (param $boundLo i32) (param $distinctCount i32) (param $distinctMin i32)
    (param $seen i32) (param $out i32) (param $outEnd i32)
    (result i32)
    (local $x i32) (local $p i32) (local $before i32) (local $twoBefore i32) (local $top i32)
    (local $stamp i32) (local $k i32) (local $distinct i32) (local $slot i32)
    (local.set $k (i32.const 0))
    (loop $clear
      (i32.store (i32.add (local.get $seen) (local.get $k)) (i32.const 0))
      (local.set $k (i32.add (local.get $k) (i32.const 4)))
      (br_if $clear (i32.lt_u (local.get $k) (i32.const 1024))))
    (local.set $x (local.get $from))
    (block $done
      (loop $positions
        (br_if $done (i32.ge_s (local.get $x) (local.get $to)))
        (if (i32.gt_s (i32.add (local.get $out) (i32.const 8)) (local.get $outEnd))
          (then
            (i32.store offset=124 (i32.const 0) (local.get $out))
            (return (local.get $x))))
        (local.set $p (i32.add (local.get $data) (local.get $x)))
        (block $next
          (block $taken
            (br_if $taken (i32.and
              (i32.ne (local.get $takeAlign) (i32.const 0))
              (i32.eqz (i32.and (i32.add (local.get $phase) (local.get $x)) (i32.sub (local.get $takeAlign) (i32.const 1))))))
            ;; Every header recognised ends in two zero bytes (a small count, padding, glibc's zeros).
            (br_if $next (i32.or (i32.eqz (local.get $elements)) (i32.lt_s (local.get $x) (i32.const 8))))
            (br_if $next (i32.or (i32.load8_u offset=0 (i32.sub (local.get $p) (i32.const 1))) (i32.load8_u offset=0 (i32.sub (local.get $p) (i32.const 2)))))
            (local.set $before (i32.load offset=0 (i32.sub (local.get $p) (i32.const 4))))
            (local.set $twoBefore (i32.load offset=0 (i32.sub (local.get $p) (i32.const 8))))
            (br_if $taken (i32.and (i32.eq (local.get $before) (local.get $elements)) (i32.ne (local.get $twoBefore) (i32.const 0))))
            (br_if $taken (i32.and (i32.eq (local.get $twoBefore) (local.get $elements)) (i32.eqz (local.get $before))))
            (br_if $next (i32.eqz (local.get $glibcSize)))
            (br_if $next (i32.or (local.get $before) (i32.and (local.get $twoBefore) (i32.const 0xffffff00))))
            (br_if $next (i32.ne (i32.and (local.get $twoBefore) (i32.const 0xf8)) (local.get $glibcSize))))
          ;; Taken: the integer's byte filters.
          (local.set $top (i32.load8_u (call $keyByte (local.get $p) (local.get $width) (local.get $form) (i32.const 0))))
          (br_if $next (i32.gt_u (local.get $top) (local.get $topMax)))
          (if (local.get $prime)
            (then
              (br_if $next (i32.eqz (local.get $top)))
              (br_if $next (i32.eqz (i32.and (i32.load8_u (call $keyByte (local.get $p) (local.get $width) (local.get $form) (i32.sub (local.get $width) (i32.const 1)))) (i32.const 1))))
              (local.set $before (i32.or (i32.or (i32.shl (local.get $top) (i32.const 16))
                (i32.shl (i32.load8_u (call $keyByte (local.get $p) (local.get $width) (local.get $form) (i32.const 1))) (i32.const 8)))
                (i32.load8_u (call $keyByte (local.get $p) (local.get $width) (local.get $form) (i32.const 2)))))
              (br_if $next (i32.lt_u (local.get $before) (local.get $boundHi)))
              (if (i32.eq (local.get $before) (local.get $boundHi))
                (then
                  (local.set $before (i32.or (i32.or
                    (i32.shl (i32.load8_u (call $keyByte (local.get $p) (local.get $width) (local.get $form) (i32.const 3))) (i32.const 16))
                    (i32.shl (i32.load8_u (call $keyByte (local.get $p) (local.get $width) (local.get $form) (i32.const 4))) (i32.const 8)))
                    (i32.load8_u (call $keyByte (local.get $p) (local.get $width) (local.get $form) (i32.const 5)))))
                  (br_if $next (i32.lt_u (local.get $before) (local.get $boundLo)))))))
          ;; Distinct byte values, stopping at distinctMin.
          (local.set $stamp (i32.add (local.get $stamp) (i32.const 1)))
          (local.set $distinct (i32.const 0))
          (local.set $k (i32.const 0))
          (block $counted
            (loop $bytes
              (br_if $next (i32.ge_u (local.get $k) (local.get $distinctCount)))
              (local.set $slot (i32.add (local.get $seen) (i32.shl (i32.load8_u (i32.add (local.get $p) (local.get $k))) (i32.const 2))))
              (if (i32.ne (i32.load (local.get $slot)) (local.get $stamp))
                (then
                  (i32.store (local.get $slot) (local.get $stamp))
                  (local.set $distinct (i32.add (local.get $distinct) (i32.const 1)))
                  (br_if $counted (i32.ge_u (local.get $distinct) (local.get $distinctMin)))))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br $bytes)))
          ;; A prime factor of a modulus is not a multiple of 3, 5, 7, 11, 13 or 17 (62% of odd
          ;; random windows are), and is no smaller.
          (if (local.get $prime)
            (then (br_if $next (call $smallFactor (local.get $p) (local.get $width) (local.get $form)))))
          (i32.store offset=0 (local.get $out) (local.get $x))
          (i32.store offset=4 (local.get $out) (i32.const 0))
          (local.set $out (i32.add (local.get $out) (i32.const 8))))
        (local.set $x (i32.add (local.get $x) (local.get $step)))
        (br $positions)))
    (i32.store offset=124 (i32.const 0) (local.get $out))
    (local.get $to))

  ;; Whether the `width`-byte integer at p in `form` is a multiple of 3, 5, 7, 11, 13 or 17: its
  ;; remainder mod 255255 (their product), a byte at a time from the most significant.
  (func $smallFactor (param $p i32) (param $width i32) (param $form i32) (result i32)
    (local $i i32) (local $r i32)
    (loop $bytes
      (local.set $r (i32.rem_u
        (i32.add (i32.shl (local.get $r) (i32.const 8)) (i32.load8_u (call $keyByte (local.get $p) (local.get $width) (local.get $form) (local.get $i))))
        (i32.const 255255)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $bytes (i32.lt_u (local.get $i) (local.get $width))))
    (i32.or
      (i32.or (i32.eqz (i32.rem_u (local.get $r) (i32.const 3))) (i32.eqz (i32.rem_u (local.get $r) (i32.const 5))))
      (i32.or
        (i32.or (i32.eqz (i32.rem_u (local.get $r) (i32.const 7))) (i32.eqz (i32.rem_u (local.get $r) (i32.const 11))))
        (i32.or (i32.eqz (i32.rem_u (local.get $r) (i32.const 13))) (i32.eqz (i32.rem_u (local.get $r) (i32.const 17)))))))

  ;; The address of the i-th most significant byte of a `width`-byte integer at p in `form`.
  (func $keyByte (param $p i32) (param $width i32) (param $form i32) (param $i i32) (result i32)
    (if (result i32) (i32.eqz (local.get $form))
      (then (i32.add (local.get $p) (local.get $i)))
      (else
        (if (result i32) (i32.eq (local.get $form) (i32.const 1))
          (then (i32.sub (i32.add (local.get $p) (local.get $width)) (i32.add (local.get $i) (i32.const 1))))
          (else (i32.add (local.get $p) (i32.sub (i32.add (i32.and (local.get $i) (i32.const -4)) (i32.const 3)) (i32.and (local.get $i) (i32.const 3)))))))))

  ;; Word classes for the entropy detector's word pass (src/detectors/entropy.ts): for each
  ;; group g of 32 words at `data` (groups [0, groups)), bit t of the i32 at zeroOut + 4g is
  ;; set when word 32g + t is non-zero, and of the i32 at textOut + 4g when it holds a byte
  ;; that is neither text (printable ASCII, tab, LF, CR) nor NUL. Per byte, two 16-byte tables
  ;; indexed by its low and its high nibble AND to non-zero exactly for those bytes:
  ;;   bit 1: high nibble 0, low nibble not 0, 9, A or D (control bytes)
  ;;   bit 2: high nibble 1 or 8..F (control bytes, bytes >= 0x80)
  ;;   bit 4: high nibble 7, low nibble F (DEL)
  (func (export "wordClasses")
    (param $data i32) (param $groups i32) (param $zeroOut i32) (param $textOut i32)
    (local $g i32) (local $at i32) (local $k i32)
    (local $lo v128) (local $hi v128) (local $nibble v128) (local $zero v128) (local $v v128)
    (local $z0 v128) (local $z1 v128) (local $z2 v128) (local $z3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local $zeroBits i32) (local $textBits i32)
    (local.set $lo (v128.const i8x16 2 3 3 3 3 3 3 3 3 2 2 3 3 2 3 7))
    (local.set $hi (v128.const i8x16 1 2 0 0 0 0 0 4 2 2 2 2 2 2 2 2))
    (local.set $nibble (i8x16.splat (i32.const 15)))
    (local.set $zero (v128.const i64x2 0 0))
    (local.set $g (i32.const 0))
    (block $done
      (loop $groups
        (br_if $done (i32.ge_u (local.get $g) (local.get $groups)))
        (local.set $at (i32.add (local.get $data) (i32.shl (local.get $g) (i32.const 7))))
        (local.set $zeroBits (i32.const 0))
        (local.set $textBits (i32.const 0))
        ;; Two halves of 16 words; an all-zero half (most of a core) has no bit in either class.
        (local.set $k (i32.const 0))
        (loop $halves
          (local.set $z0 (v128.load offset=0 (local.get $at)))
          (local.set $z1 (v128.load offset=16 (local.get $at)))
          (local.set $z2 (v128.load offset=32 (local.get $at)))
          (local.set $z3 (v128.load offset=48 (local.get $at)))
          (if (v128.any_true (v128.or (v128.or (local.get $z0) (local.get $z1)) (v128.or (local.get $z2) (local.get $z3))))
            (then
              (local.set $t0 (v128.and
                (i8x16.swizzle (local.get $lo) (v128.and (local.get $z0) (local.get $nibble)))
                (i8x16.swizzle (local.get $hi) (i8x16.shr_u (local.get $z0) (i32.const 4)))))
              (local.set $t1 (v128.and
                (i8x16.swizzle (local.get $lo) (v128.and (local.get $z1) (local.get $nibble)))
                (i8x16.swizzle (local.get $hi) (i8x16.shr_u (local.get $z1) (i32.const 4)))))
              (local.set $t2 (v128.and
                (i8x16.swizzle (local.get $lo) (v128.and (local.get $z2) (local.get $nibble)))
                (i8x16.swizzle (local.get $hi) (i8x16.shr_u (local.get $z2) (i32.const 4)))))
              (local.set $t3 (v128.and
                (i8x16.swizzle (local.get $lo) (v128.and (local.get $z3) (local.get $nibble)))
                (i8x16.swizzle (local.get $hi) (i8x16.shr_u (local.get $z3) (i32.const 4)))))
              ;; Per word -1 or 0, narrowed to one byte per word: 16 words, 16 bits.
              (local.set $zeroBits (i32.or (local.get $zeroBits)
                (i32.shl
                  (i8x16.bitmask
                    (i8x16.narrow_i16x8_s
                      (i16x8.narrow_i32x4_s (i32x4.ne (local.get $z0) (local.get $zero)) (i32x4.ne (local.get $z1) (local.get $zero)))
                      (i16x8.narrow_i32x4_s (i32x4.ne (local.get $z2) (local.get $zero)) (i32x4.ne (local.get $z3) (local.get $zero)))))
                  (local.get $k))))
              (local.set $textBits (i32.or (local.get $textBits)
                (i32.shl
                  (i8x16.bitmask
                    (i8x16.narrow_i16x8_s
                      (i16x8.narrow_i32x4_s (i32x4.ne (local.get $t0) (local.get $zero)) (i32x4.ne (local.get $t1) (local.get $zero)))
                      (i16x8.narrow_i32x4_s (i32x4.ne (local.get $t2) (local.get $zero)) (i32x4.ne (local.get $t3) (local.get $zero)))))
                  (local.get $k))))))
          (local.set $at (i32.add (local.get $at) (i32.const 64)))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br_if $halves (i32.lt_u (local.get $k) (i32.const 32))))
        (i32.store (i32.add (local.get $zeroOut) (i32.shl (local.get $g) (i32.const 2))) (local.get $zeroBits))
        (i32.store (i32.add (local.get $textOut) (i32.shl (local.get $g) (i32.const 2))) (local.get $textBits))
        (local.set $g (i32.add (local.get $g) (i32.const 1)))
        (br $groups)))
  )
)
