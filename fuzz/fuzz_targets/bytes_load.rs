//! Any bytes given to the byte-format reader, as they come and with a
//! valid checksum: no panic, either a load that saves back to the same
//! bytes, or an error that left the network exactly as it was.
#![no_main]

use libfuzzer_sys::fuzz_target;
use staticnet::io::bytes;
use staticnet_fuzz::{resealed, Mixed, MixedArch};

fn check(data: &[u8]) {
    let mut net: Mixed = Mixed::seeded(1);
    let before = net.clone();
    match bytes::load(&mut net, data) {
        Ok(()) => {
            let mut again = vec![0u8; bytes::params_len::<MixedArch, f32>()];
            bytes::save(&net, &mut again).unwrap();
            assert!(again == data, "a loaded file does not save back to itself");
        }
        Err(_) => assert!(net == before, "a failed load changed the network"),
    }
    let mut wide: Mixed<f64> = Mixed::seeded(1);
    let before = wide.clone();
    if bytes::load(&mut wide, data).is_err() {
        assert!(wide == before, "a failed load changed the network");
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    check(&resealed(data));
});
