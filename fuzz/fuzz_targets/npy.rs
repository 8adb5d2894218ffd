//! One `.npy` array from arbitrary bytes: the header parser, the size checks and the conversion must
//! return an error or an array whose size the bytes really hold — never panic, never over-allocate.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(a) = netmatch::data::npy::read_from(data, data.len() as u64) {
        assert!(a.len() <= data.len(), "an array larger than its bytes");
    }
});
