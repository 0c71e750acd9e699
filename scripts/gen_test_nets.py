#!/usr/bin/env python3
"""Writes tests/support/nets.rs: the pool of declared networks that the
property tests (tests/differential.rs, tests/gradcheck.rs) run.

Networks are compile-time types, so the pool has to exist as source. It is
made of hand-written nets, one per edge case worth naming, topped up with
pseudo-random ones, all from a fixed seed: the output depends only on this
file.

Regenerate (from the repository root, Python 3 standard library only):

    python3 scripts/gen_test_nets.py

then commit tests/support/nets.rs together with any change to this script.
The script checks that the pool still covers everything listed in
`check_coverage` and refuses to write a pool that does not.
"""

from pathlib import Path

SEED = 0x5EED_0F_7E57_0E75
POOL_SIZE = 40
OUTPUT = Path(__file__).resolve().parent.parent / "tests" / "support" / "nets.rs"

# A finite-difference check costs about 2 * PARAMS forward passes, each
# about PARAMS * batch multiply-adds, so the pool's largest nets set the
# gradient tests' running time. Random nets stay below this.
MAX_RANDOM_PARAMS = 3000

# Widths for random nets: mostly small (cheap, and odd sizes exercise the
# kernels' remainders), sometimes the extremes.
WIDTHS = [1, 1, 2, 3, 3, 4, 5, 5, 6, 7, 8, 9, 11, 12, 13, 16, 17, 24, 31, 48]

# Every activation spelling the pool uses, with non-default arguments in
# several forms (positional, named, negative), and what `LAYERS` must say
# for it: the arguments with PyTorch's defaults filled in.
ACTIVATIONS = {
    "Identity": "identity",
    "Linear": "identity",
    "BinaryStep": "binary_step",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "Relu": "relu",
    "ReLU": "relu",
    "Softplus": "softplus(beta=1, threshold=20)",
    "Softplus(beta = 2.0, threshold = 5.0)": "softplus(beta=2, threshold=5)",
    "Softplus(beta = 0.5)": "softplus(beta=0.5, threshold=20)",
    "Softplus(threshold = 2.5)": "softplus(beta=1, threshold=2.5)",
    "Softplus(1.5, 8.0)": "softplus(beta=1.5, threshold=8)",
    "LeakyRelu": "leaky_relu(0.01)",
    "LeakyRelu(0.2)": "leaky_relu(0.2)",
    "LeakyRelu(slope = 0.5)": "leaky_relu(0.5)",
    "LeakyReLU(-0.25)": "leaky_relu(-0.25)",
    "LeakyRelu(3.0)": "leaky_relu(3)",
    "Elu": "elu(1)",
    "Elu(0.5)": "elu(0.5)",
    "Elu(alpha = 2.0)": "elu(2)",
    "ELU(1.5)": "elu(1.5)",
}
SPELLINGS = list(ACTIVATIONS)


class SplitMix64:
    """The same tiny generator the library seeds with; chosen over
    `random` so the pool never depends on the Python version."""

    def __init__(self, seed):
        self.state = seed & (2**64 - 1)

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & (2**64 - 1)
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & (2**64 - 1)
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & (2**64 - 1)
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n

    def chance(self, p):
        return self.next() / 2**64 < p

    def pick(self, items):
        return items[self.below(len(items))]


# A layer is ("dense", width, bias), ("act", text) or ("res", [layers]).
def dense(width, bias=True):
    return ("dense", width, bias)


def act(text):
    return ("act", text)


def res(*body):
    return ("res", list(body))


class Net:
    def __init__(self, name, doc, inputs, layers, static_kernels=False, fast_math=False):
        self.name = name
        self.doc = doc
        self.inputs = inputs
        self.layers = layers
        self.static_kernels = static_kernels
        self.fast_math = fast_math
        self.outputs, self.params = walk(inputs, layers)


def walk(width, layers):
    """Returns (output width, parameter count), checking residual widths."""
    params = 0
    for layer in layers:
        if layer[0] == "dense":
            params += width * layer[1] + (layer[1] if layer[2] else 0)
            width = layer[1]
        elif layer[0] == "res":
            out, p = walk(width, layer[1])
            assert out == width, "a residual body must keep its width"
            params += p
    return width, params


HAND_WRITTEN = [
    Net("Scalar1", "1 -> 1, one dense layer: the smallest net.", 1, [dense(1)]),
    Net("Wide48", "48 -> 48, one dense layer: the widest layer of the pool.", 48, [dense(48)]),
    Net(
        "WideDeep48",
        "Width 48 through a residual block.",
        48,
        [dense(48), act("Tanh"), res(dense(48), act("Relu"), dense(48, bias=False))],
    ),
    Net(
        "FanIn48To1",
        "48 -> 1 through Softplus and a no-bias output.",
        48,
        [dense(5), act("Softplus(beta = 2.0, threshold = 5.0)"), dense(1, bias=False)],
    ),
    Net(
        "FanOut1To48",
        "1 -> 48 through a leaky ReLU.",
        1,
        [dense(6), act("LeakyRelu(0.2)"), dense(48), act("Sigmoid")],
    ),
    Net(
        "NoBias",
        "Every dense layer without bias.",
        3,
        [dense(4, bias=False), act("Tanh"), dense(5, bias=False), act("Relu"), dense(2, bias=False)],
    ),
    Net(
        "ActivationFirst",
        "An activation on the raw input, before any dense layer.",
        4,
        [act("Sigmoid"), dense(3), act("Elu(0.5)"), dense(3)],
    ),
    Net(
        "ActivationLast",
        "Several activations in a row, and one as the last layer.",
        5,
        [dense(6), act("Tanh"), act("Relu"), act("Softplus"), dense(2), act("Elu(alpha = 2.0)")],
    ),
    Net(
        "ResidualFirst",
        "A residual block as the first layer: the input is its skip.",
        5,
        [res(dense(7), act("Relu"), dense(5)), dense(2)],
    ),
    Net(
        "ResidualLast",
        "A residual block as the last layer: its sum is the output.",
        3,
        [dense(6), act("Tanh"), res(dense(6), act("Elu(0.5)"), dense(6))],
    ),
    Net(
        "ResidualOnly",
        "Nothing but a residual block, so input and output are its ends.",
        4,
        [res(dense(9), act("LeakyRelu(slope = 0.5)"), dense(4))],
    ),
    Net(
        "NestedResidual",
        "Residual blocks three deep, opening and closing together.",
        4,
        [
            res(
                dense(4),
                res(res(dense(4), act("Sigmoid")), act("LeakyRelu(0.2)"), dense(4)),
                act("Tanh"),
            ),
            dense(3),
        ],
    ),
    Net(
        "ResidualOfActivations",
        "Residual bodies holding only activations, nested.",
        6,
        [res(act("Tanh")), dense(6), res(act("Relu"), res(act("Sigmoid"))), act("Identity")],
    ),
    Net(
        "NoDense",
        "No dense layer at all: zero parameters, only an input gradient.",
        5,
        [act("Tanh"), res(act("Softplus(beta = 0.5)")), act("ELU(1.5)")],
    ),
    Net(
        "LinearResidual",
        "A residual block around a single dense layer, no activation.",
        7,
        [res(dense(7)), act("Linear"), dense(7, bias=False), res(dense(7, bias=False))],
    ),
    Net(
        "Bottleneck1",
        "A width-1 layer in the middle.",
        8,
        [dense(8), act("ReLU"), dense(1), act("Tanh"), dense(8), act("LeakyReLU(-0.25)"), dense(3)],
    ),
    Net(
        "StepGate",
        "A binary step in the middle: no gradient reaches the first layer.",
        3,
        [dense(4), act("BinaryStep"), dense(4), act("Sigmoid"), dense(2)],
    ),
    Net(
        "StepInResidual",
        "A binary step inside a residual block: only the skip carries gradient.",
        4,
        [dense(4), res(dense(4), act("BinaryStep"), dense(4)), act("Tanh"), dense(2)],
    ),
    Net(
        "SoftplusThresholds",
        "Softplus with low thresholds, where its identity branch is reached.",
        2,
        [dense(5), act("Softplus(threshold = 2.5)"), dense(5), act("Softplus(1.5, 8.0)"), dense(2)],
    ),
    Net(
        "SteepLeaky",
        "A leaky ReLU with slope above 1 and ELU variants.",
        3,
        [dense(5), act("LeakyRelu(3.0)"), dense(5), act("Elu"), dense(4), act("LeakyRelu"), dense(2)],
    ),
    Net(
        "Depth6",
        "Six dense layers of mixed widths and activations.",
        2,
        [
            dense(12), act("Tanh"),
            dense(9), act("Sigmoid"),
            dense(16), act("Relu"),
            dense(7, bias=False), act("Elu"),
            dense(11), act("Softplus"),
            dense(3),
        ],
    ),
    Net(
        "StaticKernels",
        "Declared with #[static_kernels].",
        6,
        [dense(10), act("Relu"), dense(4)],
        static_kernels=True,
    ),
    Net(
        "StaticKernelsResidual",
        "#[static_kernels] with a nested residual block and no-bias layers.",
        5,
        [
            dense(8, bias=False), act("Tanh"),
            res(dense(8), act("Elu(0.5)"), res(dense(8, bias=False)), act("Sigmoid")),
            dense(3),
        ],
        static_kernels=True,
    ),
    Net(
        "FastMath",
        "Declared with #[fast_math]: every activation that has an approximation.",
        4,
        [
            dense(9), act("Sigmoid"),
            dense(9), act("Tanh"),
            dense(7), act("Softplus(beta = 2.0, threshold = 5.0)"),
            dense(5), act("Elu(0.5)"),
            dense(2),
        ],
        fast_math=True,
    ),
    Net(
        "FastMathStaticKernels",
        "#[fast_math] and #[static_kernels], with residual blocks.",
        6,
        [
            res(dense(6), act("Softplus"), dense(6)),
            act("Tanh"),
            res(dense(11, bias=False), act("ELU(1.5)"), dense(6), act("Sigmoid")),
            dense(3),
        ],
        static_kernels=True,
        fast_math=True,
    ),
]


def random_activation(rng):
    return act(rng.pick(SPELLINGS))


def random_block(rng, width, depth_left, nesting):
    """One residual block of the given width; returns (layer, denses used)."""
    body = []
    used = 0
    if depth_left >= 2 and rng.chance(0.6):
        hidden = rng.pick(WIDTHS)
        body += [dense(hidden, bias=not rng.chance(0.2)), random_activation(rng)]
        body += [dense(width, bias=not rng.chance(0.2))]
        used = 2
    elif depth_left >= 1 and rng.chance(0.7):
        body += [dense(width, bias=not rng.chance(0.2))]
        used = 1
    if nesting < 2 and depth_left - used >= 1 and rng.chance(0.3):
        inner, n = random_block(rng, width, depth_left - used, nesting + 1)
        body.append(inner)
        used += n
    if not body or rng.chance(0.5):
        body.append(random_activation(rng))
    return res(*body), used


def random_net(rng, index):
    depth = 1 + rng.below(6)
    inputs = rng.pick(WIDTHS)
    width = inputs
    layers = []
    denses = 0
    if rng.chance(0.15):
        layers.append(random_activation(rng))
    while denses < depth:
        if rng.chance(0.25):
            block, used = random_block(rng, width, depth - denses, 0)
            layers.append(block)
            denses += used
            if used == 0:
                continue
        else:
            width = rng.pick(WIDTHS)
            layers.append(dense(width, bias=not rng.chance(0.2)))
            denses += 1
        if rng.chance(0.75):
            layers.append(random_activation(rng))
    return Net(
        f"Random{index:02}",
        f"Random net {index}: {depth} dense layer(s).",
        inputs,
        layers,
        static_kernels=rng.chance(0.1),
        fast_math=rng.chance(0.1),
    )


def count_denses(layers):
    n = 0
    for layer in layers:
        if layer[0] == "dense":
            n += 1
        elif layer[0] == "res":
            n += count_denses(layer[1])
    return n


def make_pool():
    rng = SplitMix64(SEED)
    pool = list(HAND_WRITTEN)
    index = 0
    while len(pool) < POOL_SIZE:
        net = random_net(rng, index)
        if net.params <= MAX_RANDOM_PARAMS:
            pool.append(net)
            index += 1
    return pool


def features(layers, depth=0):
    """Everything a layer list exercises, as a set of strings."""
    found = set()
    for i, layer in enumerate(layers):
        if layer[0] == "dense":
            found.add(f"width {layer[1]}")
            if not layer[2]:
                found.add("no bias")
        elif layer[0] == "act":
            found.add("act " + layer[1].split("(")[0])
            found.add("spelling " + layer[1])
        else:
            found.add("residual")
            if depth > 0:
                found.add("nested residual")
            if i == 0:
                found.add("residual first")
            if i == len(layers) - 1:
                found.add("residual last")
            if count_denses(layer[1]) == 0:
                found.add("residual without dense")
            found |= features(layer[1], depth + 1)
    return found


def check_coverage(pool):
    found = set()
    for net in pool:
        found |= features(net.layers)
        found.add(f"depth {count_denses(net.layers)}")
        found.add(f"in {net.inputs}")
        found.add(f"out {net.outputs}")
        if net.static_kernels:
            found.add("static kernels")
        if net.fast_math:
            found.add("fast math")
    wanted = {"no bias", "residual", "nested residual", "residual first", "residual last",
              "residual without dense", "static kernels", "fast math", "in 1", "out 1", "in 48", "out 48",
              "width 1", "width 48"}
    wanted |= {f"depth {d}" for d in range(0, 7)}
    wanted |= {"spelling " + a for a in ACTIVATIONS}
    missing = sorted(wanted - found)
    assert not missing, f"the pool no longer covers: {missing}"
    names = [net.name for net in pool]
    assert len(set(names)) == len(names), "net names must be unique"


def describe(net):
    """What the net's `Architecture` constants must say, in the format of
    `describe` in tests/differential.rs: the declaration as this script
    understands it, with parameters laid out layer after layer, each dense
    layer's weights first and then its bias."""
    offset = 0

    def layers(width, items):
        nonlocal offset
        parts = []
        for layer in items:
            if layer[0] == "dense":
                out = layer[1]
                text = f"dense {width}->{out} w@{offset}"
                offset += width * out
                if layer[2]:
                    text += f" b@{offset}"
                    offset += out
                else:
                    text += " no bias"
                parts.append(text)
                width = out
            elif layer[0] == "act":
                parts.append(ACTIVATIONS[layer[1]])
            else:
                parts.append(f"residual({width}) {{ {layers(width, layer[1])} }}")
        return ", ".join(parts)

    body = layers(net.inputs, net.layers)
    flags = ", static kernels" if net.static_kernels else ""
    flags += ", fast math" if net.fast_math else ""
    return f"{net.name}({net.inputs} -> {net.outputs}), {net.params} params{flags}: {body}"


def rust_layers(layers, indent):
    pad = "    " * indent
    lines = []
    for layer in layers:
        if layer[0] == "dense":
            bias = "" if layer[2] else ", bias = false"
            lines.append(f"{pad}Dense<{layer[1]}{bias}>,")
        elif layer[0] == "act":
            lines.append(f"{pad}{layer[1]},")
        else:
            lines.append(f"{pad}Residual {{")
            lines += rust_layers(layer[1], indent + 1)
            lines.append(f"{pad}}},")
    return lines


def rust_string(text):
    assert "\\" not in text and '"' not in text
    return f'"{text}"'


def snake(name):
    out = ""
    for i, c in enumerate(name):
        if c.isupper() and i > 0 and not name[i - 1].isupper():
            out += "_"
        out += c.lower()
    return out


def render(pool):
    lines = [
        "//! The pool of networks the property tests run, one edge case each",
        "//! plus pseudo-random ones.",
        "//!",
        "//! Generated by `scripts/gen_test_nets.py`; do not edit by hand.",
        "//! Regenerate with `python3 scripts/gen_test_nets.py` from the",
        "//! repository root.",
        "",
        "staticnet::network! {",
    ]
    for net in pool:
        lines.append(f"    /// {net.doc} {net.params} parameters.")
        if net.static_kernels:
            lines.append("    #[static_kernels]")
        if net.fast_math:
            lines.append("    #[fast_math]")
        lines.append(f"    pub struct {net.name}({net.inputs} -> {net.outputs}) {{")
        lines += rust_layers(net.layers, 2)
        lines.append("    }")
    lines.append("}")
    lines += [
        "",
        "/// Invokes `$callback!(snake_case_name, Architecture, \"description\")`",
        "/// once for every network of the pool, to stamp out one test per",
        "/// network. The description is what the network's `Architecture`",
        "/// constants must say (see `describe` in tests/differential.rs).",
        "// Not every test binary that includes the support module runs the pool.",
        "#[allow(unused_macros)]",
        "macro_rules! for_each_net {",
        "    ($callback:ident) => {",
    ]
    for net in pool:
        lines.append(f"        $callback!(")
        lines.append(f"            {snake(net.name)},")
        lines.append(f"            $crate::support::nets::{net.name}Arch,")
        lines.append(f"            {rust_string(describe(net))}")
        lines.append(f"        );")
    lines += [
        "    };",
        "}",
        "#[allow(unused_imports)]",
        "pub(crate) use for_each_net;",
        "",
    ]
    return "\n".join(lines)


def main():
    pool = make_pool()
    check_coverage(pool)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(render(pool))
    total = sum(net.params for net in pool)
    print(f"wrote {len(pool)} networks ({total} parameters in all)")


if __name__ == "__main__":
    main()
