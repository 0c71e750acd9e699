//! Any bytes given to the safetensors loader: no panic, no allocation
//! beyond the input's size, and either a load or an error that left the
//! network exactly as it was.
#![no_main]

use libfuzzer_sys::fuzz_target;
use staticnet::io::safetensors::{self, LoadOptions, Tensors};
use staticnet_fuzz::Mixed;

fuzz_target!(|data: &[u8]| {
    for strict in [true, false] {
        let options = LoadOptions {
            names: None,
            strict,
        };
        let mut net: Mixed = Mixed::seeded(1);
        let before = net.clone();
        if safetensors::load_with(&mut net, data, &options).is_err() {
            assert!(net == before, "a failed load changed the network");
        }
        let mut wide: Mixed<f64> = Mixed::seeded(1);
        let before = wide.clone();
        if safetensors::load_with(&mut wide, data, &options).is_err() {
            assert!(wide == before, "a failed load changed the network");
        }
    }
    // The general reader: every tensor of a valid file converts.
    if let Ok(file) = Tensors::parse(data) {
        for t in file.iter() {
            if let Ok(values) = t.to_vec::<f32>() {
                assert_eq!(values.len(), t.len());
            }
        }
    }
});
