//! Any bytes given to the checkpoint reader, as they come and with a
//! valid checksum: no panic, either a restore that saves back to the same
//! bytes, or an error that left the network and the optimizer exactly as
//! they were.
#![no_main]

use libfuzzer_sys::fuzz_target;
use staticnet::io::bytes;
use staticnet::optim::{Adam, AdamConfig};
use staticnet_fuzz::{resealed, Mixed, MixedArch, MixedLen};

type Opt = Adam<f32, MixedLen>;

fn check(data: &[u8]) {
    let mut net: Mixed = Mixed::seeded(1);
    let mut opt: Opt = Adam::new(AdamConfig::default()).unwrap();
    let (net_before, opt_before) = (net.clone(), opt.clone());
    match bytes::load_checkpoint(&mut net, &mut opt, data) {
        Ok(()) => {
            let mut again = vec![0u8; bytes::checkpoint_len::<MixedArch, f32, Opt>()];
            bytes::save_checkpoint(&net, &opt, &mut again).unwrap();
            assert!(
                again == data,
                "a restored checkpoint does not save back to itself"
            );
        }
        Err(_) => {
            assert!(net == net_before, "a failed restore changed the network");
            // The optimizer started from a valid config without NaNs, so
            // `==` is a fair comparison.
            assert!(opt == opt_before, "a failed restore changed the optimizer");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    check(&resealed(data));
});
