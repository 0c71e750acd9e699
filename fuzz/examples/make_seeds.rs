//! Writes the committed seed inputs of every fuzz target into seeds/:
//! valid files the fuzzer mutates from. Run from fuzz/:
//! `cargo run --example make_seeds`.

use staticnet::io::bytes;
use staticnet::optim::{Adam, AdamConfig, Optimizer};
use staticnet_fuzz::{Mixed, MixedArch, MixedLen};
use std::fs;

fn write(target: &str, name: &str, data: &[u8]) {
    let dir = format!("seeds/{target}");
    fs::create_dir_all(&dir).unwrap();
    fs::write(format!("{dir}/{name}"), data).unwrap();
}

fn main() {
    // safetensors: the fixtures PyTorch wrote, in every dtype.
    for name in ["mixed", "mixed_f64", "mixed_f16", "mixed_bf16"] {
        let data = fs::read(format!("../tests/fixtures/{name}.safetensors")).unwrap();
        write("safetensors_load", &format!("{name}.safetensors"), &data);
    }

    // The byte format, both scalar types.
    let net: Mixed = Mixed::seeded(7);
    let mut buf = vec![0u8; bytes::params_len::<MixedArch, f32>()];
    bytes::save(&net, &mut buf).unwrap();
    write("bytes_load", "mixed_f32.snet", &buf);
    let wide: Mixed<f64> = Mixed::seeded(7);
    let mut buf = vec![0u8; bytes::params_len::<MixedArch, f64>()];
    bytes::save(&wide, &mut buf).unwrap();
    write("bytes_load", "mixed_f64.snet", &buf);

    // A checkpoint after a few steps, so every buffer holds values.
    let mut net: Mixed = Mixed::seeded(7);
    let mut opt = Adam::<f32, MixedLen>::new(AdamConfig {
        amsgrad: true,
        ..AdamConfig::default()
    })
    .unwrap();
    let mut grads: Mixed = Mixed::seeded(8);
    for _ in 0..3 {
        opt.step(&mut net, &grads).unwrap();
        grads.params_mut().iter_mut().for_each(|g| *g *= -0.5);
    }
    let mut buf = vec![0u8; bytes::checkpoint_len::<MixedArch, f32, Adam<f32, MixedLen>>()];
    bytes::save_checkpoint(&net, &opt, &mut buf).unwrap();
    write("checkpoint_load", "mixed_adam.ckpt", &buf);
}
