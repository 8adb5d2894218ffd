//! One network's observations from an arbitrary `.npz` (zip) image: member sizes, headers, the
//! cross-checks of declared shapes and the validation of `Observations::new`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::path::Path::new("fuzz.npz");
    let _ = netmatch::data::npz::read_observations_from(std::io::Cursor::new(data), data.len() as u64, path);
});
