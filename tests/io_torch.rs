//! PyTorch in and out through safetensors: nets trained in PyTorch by
//! scripts/export_torch.py (tests/fixtures/) give PyTorch's outputs here,
//! every dtype converts as PyTorch converts it, what staticnet saves has
//! exactly PyTorch's tensors, and every way a file can be wrong is an
//! error naming the tensor that leaves the network untouched.
#![cfg(feature = "safetensors")]

use staticnet::io::safetensors::{
    self, Dtype, LoadOptions, LoadReport, SafetensorsError, TensorNames, Tensors,
};
use staticnet::{Architecture, Network, Scalar};

staticnet::network! {
    /// W1 of the benchmarks, as exported.
    pub struct W1(2 -> 1) { Dense<16>, Tanh, Dense<16>, Tanh, Dense<1> }

    /// Residual blocks (one nested), a layer without bias and most
    /// activations, as exported.
    pub struct Mixed(3 -> 2) {
        Dense<8>, Tanh,
        Residual { Dense<8>, Relu, Dense<8, bias = false> },
        LeakyRelu(0.1),
        Residual { Dense<8>, Elu(1.0), Residual { Dense<8>, Sigmoid, Dense<8> } },
        Softplus(beta = 2.0, threshold = 10.0),
        Dense<4, bias = false>, Identity,
        Dense<2>,
    }
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The rows of tensor `name` (shape `[rows, W]`) in `file`.
fn rows<T: Scalar, const W: usize>(file: &Tensors<'_>, name: &str) -> Vec<[T; W]> {
    let t = file.get(name).unwrap();
    assert_eq!(t.shape[1], W, "{name}");
    let flat: Vec<T> = t.to_vec().unwrap();
    flat.chunks_exact(W)
        .map(|c| std::array::from_fn(|i| c[i]))
        .collect()
}

/// The largest |ours − PyTorch's| over the fixture's inputs.
fn worst_error<A, T, const IN: usize, const OUT: usize>(
    net: &Network<A, T>,
    io: &[u8],
    outputs: &str,
) -> f64
where
    A: Architecture<Input<T> = [T; IN], Output<T> = [T; OUT]>,
    T: Scalar,
{
    let file = Tensors::parse(io).unwrap();
    let inputs = rows::<T, IN>(&file, "inputs");
    let expected = rows::<T, OUT>(&file, outputs);
    assert!(inputs.len() >= 8);
    let mut worst = 0.0f64;
    for (x, y) in inputs.iter().zip(&expected) {
        let ours = net.predict(x);
        for (a, b) in ours.iter().zip(y) {
            worst = worst.max((a.to_f64() - b.to_f64()).abs());
        }
    }
    worst
}

#[test]
fn w1_trained_in_pytorch_gives_pytorchs_outputs() {
    let mut net: W1 = W1::zeroed();
    let report = safetensors::load(&mut net, &fixture("w1.safetensors")).unwrap();
    assert_eq!(report, LoadReport::default());
    let worst = worst_error(&net, &fixture("w1_io.safetensors"), "outputs");
    assert!(worst <= 1e-6, "largest difference {worst:e}");
}

#[test]
fn mixed_trained_in_pytorch_gives_pytorchs_outputs() {
    let mut net: Mixed = Mixed::zeroed();
    safetensors::load(&mut net, &fixture("mixed.safetensors")).unwrap();
    let worst = worst_error(&net, &fixture("mixed_io.safetensors"), "outputs");
    assert!(worst <= 1e-6, "largest difference {worst:e}");
}

#[test]
fn f64_weights_give_pytorchs_f64_outputs_and_round_to_the_f32_file() {
    let f64_file = fixture("mixed_f64.safetensors");
    let mut wide: Mixed<f64> = Mixed::zeroed();
    let report = safetensors::load(&mut wide, &f64_file).unwrap();
    assert!(report.converted.is_empty());
    let worst = worst_error(&wide, &fixture("mixed_io.safetensors"), "outputs_f64");
    assert!(worst <= 1e-12, "largest difference {worst:e}");

    // F64 into f32 rounds to nearest, as `tensor.float()` does: the result
    // is bit-identical to the F32 file PyTorch wrote.
    let mut from_f64: Mixed = Mixed::zeroed();
    let report = safetensors::load(&mut from_f64, &f64_file).unwrap();
    assert_eq!(report.converted.len(), 14);
    assert!(report.converted.iter().all(|(_, d)| *d == Dtype::F64));
    let mut from_f32: Mixed = Mixed::zeroed();
    safetensors::load(&mut from_f32, &fixture("mixed.safetensors")).unwrap();
    assert_eq!(from_f64, from_f32);

    // F32 into f64 widens exactly.
    let mut widened: Mixed<f64> = Mixed::zeroed();
    safetensors::load(&mut widened, &fixture("mixed.safetensors")).unwrap();
    let exact: Vec<f64> = from_f32.params().iter().map(|&v| f64::from(v)).collect();
    assert_eq!(widened.params(), &exact[..]);
}

#[test]
fn half_precision_weights_convert_as_pytorch_converts_them() {
    let io = fixture("mixed_io.safetensors");
    let mut full: Mixed = Mixed::zeroed();
    safetensors::load(&mut full, &fixture("mixed.safetensors")).unwrap();
    for (file, prefix, dtype) in [
        ("mixed_f16.safetensors", "f16", Dtype::F16),
        ("mixed_bf16.safetensors", "bf16", Dtype::BF16),
    ] {
        let mut net: Mixed = Mixed::zeroed();
        let report = safetensors::load(&mut net, &fixture(file)).unwrap();
        assert_eq!(report.converted.len(), 14, "{file}");
        assert!(report.converted.iter().all(|(_, d)| *d == dtype));
        // PyTorch's own conversion of every parameter, `half.float()`,
        // stored beside the inputs as F32 under "<prefix>.<name>".
        let names = TensorNames::sequential::<MixedArch>().map(|n| format!("{prefix}.{n}"));
        let options = LoadOptions {
            names: Some(&names),
            strict: false,
        };
        let mut torch: Mixed = Mixed::seeded(1);
        safetensors::load_with(&mut torch, &io, &options).unwrap();
        let bits = |n: &Mixed| n.params().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&net), bits(&torch), "{file}");
        // And the rounding is real.
        assert_ne!(net, full, "{file}");
    }
}

#[test]
fn what_staticnet_saves_is_exactly_what_pytorch_saved() {
    let original = fixture("mixed.safetensors");
    let mut net: Mixed = Mixed::zeroed();
    safetensors::load(&mut net, &original).unwrap();
    let ours = safetensors::save(&net);

    let (theirs, ours_file) = (
        Tensors::parse(&original).unwrap(),
        Tensors::parse(&ours).unwrap(),
    );
    assert_eq!(ours_file.len(), theirs.len());
    for t in theirs.iter() {
        let mine = ours_file.get(t.name).unwrap();
        assert_eq!(
            (mine.dtype, mine.shape, mine.data),
            (t.dtype, t.shape, t.data),
            "{}",
            t.name
        );
    }
    // The header is padded so the data starts 8-byte aligned.
    let header_len = u64::from_le_bytes(ours[..8].try_into().unwrap());
    assert_eq!(header_len % 8, 0);

    let mut again: Mixed = Mixed::seeded(1);
    safetensors::load(&mut again, &ours).unwrap();
    assert_eq!(again, net);

    let mut wide: Mixed<f64> = Mixed::zeroed();
    safetensors::load(&mut wide, &fixture("mixed_f64.safetensors")).unwrap();
    let saved = safetensors::save(&wide);
    let file = Tensors::parse(&saved).unwrap();
    assert!(file.iter().all(|t| t.dtype == Dtype::F64));
}

/// Loads `file` into a seeded `Mixed` with `options`, checks the error and
/// that the network kept every value.
fn refused(file: &[u8], options: &LoadOptions<'_>) -> SafetensorsError {
    let mut net: Mixed = Mixed::seeded(4);
    let before = net.clone();
    let err = safetensors::load_with(&mut net, file, options).unwrap_err();
    assert_eq!(net, before, "{err}");
    err
}

/// The fixture with its tensors changed by `edit` (name, dtype, shape,
/// values as f32), re-encoded.
fn edited(edit: impl Fn(&mut Vec<(String, Dtype, Vec<usize>, Vec<u8>)>)) -> Vec<u8> {
    let original = fixture("mixed.safetensors");
    let file = Tensors::parse(&original).unwrap();
    let mut tensors: Vec<_> = file
        .iter()
        .map(|t| {
            (
                t.name.to_string(),
                t.dtype,
                t.shape.to_vec(),
                t.data.to_vec(),
            )
        })
        .collect();
    let before = tensors.clone();
    edit(&mut tensors);
    assert_ne!(tensors, before, "the edit changed nothing");
    encode(&tensors)
}

/// A safetensors file of these tensors, written independently of the
/// library's writer.
fn encode(tensors: &[(String, Dtype, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let mut header = String::from("{");
    let mut data = Vec::new();
    for (i, (name, dtype, shape, bytes)) in tensors.iter().enumerate() {
        if i > 0 {
            header.push(',');
        }
        let dtype = format!("{dtype:?}").to_uppercase();
        header.push_str(&format!(
            "\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape:?},\"data_offsets\":[{},{}]}}",
            data.len(),
            data.len() + bytes.len()
        ));
        data.extend_from_slice(bytes);
    }
    header.push('}');
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend_from_slice(header.as_bytes());
    file.extend_from_slice(&data);
    file
}

#[test]
fn a_missing_tensor_is_named_with_its_shape() {
    let file = edited(|t| t.retain(|(n, ..)| n != "4.body.2.body.0.weight"));
    assert_eq!(
        refused(&file, &LoadOptions::default()),
        SafetensorsError::MissingTensor {
            name: "4.body.2.body.0.weight".into(),
            expected_shape: vec![8, 8],
        }
    );
}

#[test]
fn a_wrong_shape_names_both_shapes() {
    // The transpose: the classic mistake of a weight stored [in, out].
    let file = edited(|t| {
        for (name, _, shape, _) in t.iter_mut() {
            if name == "0.weight" {
                shape.reverse();
            }
        }
    });
    let err = refused(&file, &LoadOptions::default());
    assert_eq!(
        err,
        SafetensorsError::WrongShape {
            name: "0.weight".into(),
            expected: vec![8, 3],
            found: vec![3, 8],
        }
    );
    assert_eq!(
        err.to_string(),
        "tensor `0.weight` has shape [3, 8], expected [8, 3]"
    );
}

#[test]
fn a_wrong_dtype_is_named() {
    let file = edited(|t| {
        for (name, dtype, ..) in t.iter_mut() {
            if name == "8.bias" {
                *dtype = Dtype::I32;
            }
        }
    });
    assert_eq!(
        refused(&file, &LoadOptions::default()),
        SafetensorsError::WrongDtype {
            name: "8.bias".into(),
            found: "I32",
        }
    );
}

#[test]
fn extra_tensors_are_an_error_when_strict_and_reported_otherwise() {
    let file = edited(|t| {
        t.push(("2.body.2.bias".into(), Dtype::F32, vec![8], vec![0; 32]));
        t.push(("step".into(), Dtype::I64, vec![], vec![0; 8]));
    });
    assert_eq!(
        refused(&file, &LoadOptions::default()),
        SafetensorsError::UnexpectedTensors {
            names: vec!["2.body.2.bias".into(), "step".into()],
        }
    );
    let mut net: Mixed = Mixed::zeroed();
    let options = LoadOptions {
        strict: false,
        ..LoadOptions::default()
    };
    let report = safetensors::load_with(&mut net, &file, &options).unwrap();
    assert_eq!(report.unused, ["2.body.2.bias", "step"]);
    let mut reference: Mixed = Mixed::zeroed();
    safetensors::load(&mut reference, &fixture("mixed.safetensors")).unwrap();
    assert_eq!(net, reference);
}

#[test]
fn truncated_and_corrupt_files_are_refused() {
    let original = fixture("mixed.safetensors");
    let options = LoadOptions::default();
    let err = refused(&original[..original.len() - 1], &options);
    assert!(
        matches!(err, SafetensorsError::Truncated { what: "the tensor data", needed, available }
            if needed == original.len() as u64 && available + 1 == needed),
        "{err}"
    );
    let err = refused(&original[..5], &options);
    assert!(
        matches!(err, SafetensorsError::Truncated { needed: 8, .. }),
        "{err}"
    );
    let err = refused(&original[..100], &options);
    assert!(
        matches!(
            err,
            SafetensorsError::Truncated {
                what: "the JSON header",
                ..
            }
        ),
        "{err}"
    );

    let mut corrupt = original.clone();
    corrupt[8] = b'[';
    let err = refused(&corrupt, &options);
    assert!(matches!(err, SafetensorsError::Header { .. }), "{err}");

    let mut huge = original.clone();
    huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    let err = refused(&huge, &options);
    assert!(
        matches!(err, SafetensorsError::HeaderTooLarge { .. }),
        "{err}"
    );

    let mut padded = original.clone();
    padded.extend_from_slice(&[0; 4]);
    let err = refused(&padded, &options);
    assert!(matches!(err, SafetensorsError::Layout { .. }), "{err}");
}

#[test]
fn other_module_trees_load_through_a_name_map() {
    // The same weights under the names of a module with named layers.
    let modules = [
        "fc_in",
        "res1.lin1",
        "res1.lin2",
        "res2.lin1",
        "res2.inner.a",
        "res2.inner.b",
        "proj",
        "head",
    ];
    let sequential = TensorNames::sequential::<MixedArch>();
    let named = TensorNames::modules::<MixedArch>(&modules).unwrap();
    let rename = |name: &str| -> String {
        sequential
            .layers()
            .iter()
            .zip(named.layers())
            .find_map(|(s, n)| {
                if s.weight == name {
                    Some(n.weight.clone())
                } else if s.bias.as_deref() == Some(name) {
                    n.bias.clone()
                } else {
                    None
                }
            })
            .unwrap()
    };
    let file = edited(|t| {
        for (name, ..) in t.iter_mut() {
            *name = format!("model.{}", rename(name));
        }
    });

    // With the default names nothing is found.
    let err = refused(&file, &LoadOptions::default());
    assert!(matches!(err, SafetensorsError::MissingTensor { ref name, .. } if name == "0.weight"));

    let names = named.map(|n| format!("model.{n}"));
    let mut net: Mixed = Mixed::zeroed();
    let options = LoadOptions {
        names: Some(&names),
        strict: true,
    };
    safetensors::load_with(&mut net, &file, &options).unwrap();
    let mut reference: Mixed = Mixed::zeroed();
    safetensors::load(&mut reference, &fixture("mixed.safetensors")).unwrap();
    assert_eq!(net, reference);

    // Saving with the same names writes that module tree's names.
    let saved = safetensors::save_with(&net, &names).unwrap();
    let saved = Tensors::parse(&saved).unwrap();
    assert!(saved.get("model.res2.inner.a.weight").is_some());
    assert!(saved.get("model.res1.lin2.bias").is_none());

    // Names for another network do not fit.
    let w1_names = TensorNames::sequential::<W1Arch>();
    let options = LoadOptions {
        names: Some(&w1_names),
        strict: true,
    };
    let err = refused(&file, &options);
    assert!(matches!(err, SafetensorsError::Names { .. }), "{err}");
}

#[test]
fn files_load_and_save_by_path() {
    let dir = std::env::temp_dir().join(format!("staticnet-io-torch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("w1.safetensors");
    let net: W1 = W1::seeded(3);
    safetensors::save_file(&net, &path).unwrap();
    let mut back: W1 = W1::zeroed();
    safetensors::load_file(&mut back, &path).unwrap();
    assert_eq!(back, net);
    std::fs::remove_dir_all(&dir).unwrap();

    let err = safetensors::load_file(&mut back, dir.join("missing.safetensors")).unwrap_err();
    assert!(
        matches!(
            err,
            SafetensorsError::Io {
                kind: std::io::ErrorKind::NotFound,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(back, net);
}
