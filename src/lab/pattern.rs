//! The verifiable byte stream. Every 8-byte word of the stream holds its own
//! word index (little-endian) mixed with a salt, so the byte at any stream
//! position is known in advance and the pattern never repeats: a lost,
//! duplicated or reordered byte anywhere shows up as a mismatch.

/// Distinct bytes, so a stream shifted by 1..7 bytes never lines up again.
const SALT: u64 = 0xA55A_3C96_0F1E_D2B4;

#[inline(always)]
fn word(index: u64) -> u64 {
    index ^ SALT
}

/// The byte the stream holds at `position`.
#[inline]
pub fn byte_at(position: u64) -> u8 {
    word(position / 8).to_le_bytes()[(position % 8) as usize]
}

/// Fills `buf` with the stream's bytes starting at stream `position`.
pub fn fill(buf: &mut [u8], position: u64) {
    let len = buf.len();
    let head = (((8 - position % 8) % 8) as usize).min(buf.len());
    let (head_bytes, rest) = buf.split_at_mut(head);
    for (i, b) in head_bytes.iter_mut().enumerate() {
        *b = byte_at(position + i as u64);
    }
    let aligned = position + head as u64;
    let first_word = aligned / 8;
    let mut words = rest.chunks_exact_mut(8);
    for (i, chunk) in (&mut words).enumerate() {
        chunk.copy_from_slice(&word(first_word + i as u64).to_le_bytes());
    }
    let tail = words.into_remainder();
    let tail_start = position + (len - tail.len()) as u64;
    for (i, b) in tail.iter_mut().enumerate() {
        *b = byte_at(tail_start + i as u64);
    }
}

/// Checks `buf` against the stream from `position`; returns the index in
/// `buf` of the first wrong byte, or None when every byte is right.
pub fn verify(buf: &[u8], position: u64) -> Option<usize> {
    let head = (((8 - position % 8) % 8) as usize).min(buf.len());
    if let Some(i) = (0..head).find(|&i| buf[i] != byte_at(position + i as u64)) {
        return Some(i);
    }
    let rest = &buf[head..];
    let first_word = (position + head as u64) / 8;
    // Fast path: OR the differences together (vectorises), look closer only
    // when something differs.
    let mut diff = 0u64;
    let words = rest.chunks_exact(8);
    let tail = words.remainder();
    for (i, chunk) in words.enumerate() {
        let got = u64::from_le_bytes(chunk.try_into().expect("chunks_exact(8)"));
        diff |= got ^ word(first_word + i as u64);
    }
    let tail_start = buf.len() - tail.len();
    if diff != 0 {
        return (head..tail_start).find(|&i| buf[i] != byte_at(position + i as u64));
    }
    (tail_start..buf.len()).find(|&i| buf[i] != byte_at(position + i as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_matches_byte_at_at_every_alignment() {
        for start in 0..17u64 {
            for len in [0usize, 1, 7, 8, 9, 63, 64, 100] {
                let mut buf = vec![0u8; len];
                fill(&mut buf, start);
                for (i, b) in buf.iter().enumerate() {
                    assert_eq!(
                        *b,
                        byte_at(start + i as u64),
                        "start {start} len {len} i {i}"
                    );
                }
                assert_eq!(verify(&buf, start), None);
            }
        }
    }

    #[test]
    fn detects_a_lost_byte() {
        let mut stream = vec![0u8; 4096];
        fill(&mut stream, 0);
        // Receiver got bytes 0..1000 then 1001.. (byte 1000 lost).
        let mut received = stream[..1000].to_vec();
        received.extend_from_slice(&stream[1001..]);
        assert_eq!(verify(&received, 0), Some(1000));
    }

    #[test]
    fn detects_a_lost_word_and_a_duplicate() {
        let mut stream = vec![0u8; 4096];
        fill(&mut stream, 0);
        let mut lost_word = stream[..800].to_vec();
        lost_word.extend_from_slice(&stream[808..]);
        assert_eq!(verify(&lost_word, 0), Some(800));

        let mut duplicated = stream[..2048].to_vec();
        duplicated.extend_from_slice(&stream[1024..]);
        assert_eq!(verify(&duplicated, 0), Some(2048));
    }

    #[test]
    fn detects_reordering_and_corruption_in_the_tail() {
        let mut stream = vec![0u8; 1003];
        fill(&mut stream, 5);
        let mut swapped = stream.clone();
        swapped.swap(500, 501);
        assert_eq!(verify(&swapped, 5), Some(500));
        let mut corrupt = stream.clone();
        corrupt[1002] ^= 1;
        assert_eq!(verify(&corrupt, 5), Some(1002));
        assert_eq!(
            verify(&stream, 6),
            Some(0),
            "wrong position must not verify"
        );
    }

    #[test]
    fn a_shifted_stream_never_lines_up() {
        let mut stream = vec![0u8; 256];
        fill(&mut stream, 0);
        for shift in 1..16u64 {
            assert!(
                verify(&stream[shift as usize..], 0).is_some(),
                "shift {shift}"
            );
        }
    }
}
