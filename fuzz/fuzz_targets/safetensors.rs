//! One network's observations from arbitrary `.safetensors` bytes: the crate's header and range checks,
//! netmatch's shape cross-checks, the dtype conversions and `Observations::new`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::path::Path::new("fuzz.safetensors");
    let _ = netmatch::data::safetensors::read_observations_from_bytes(data, path);
});
