//! Property tests: random quantized layers lowered to pipelined netlists compute exactly what the
//! reference interpreter computes (run on the `rtl` crate's cycle simulator, vectors streamed
//! back to back), and the netlists verify (balanced pipelines, widths consistent).

use proptest::prelude::*;
use tachyon_hls::layers::cse::Ranking;
use tachyon_hls::{synthesize, synthesize_ranked, Cuts, HlsOptions, Strategy as Mult};
use tachyon_quantize::fixed::Overflow;
use tachyon_quantize::qir::*;
use tachyon_quantize::{interp, Elem, Round};
use tachyon_rtl::{Module, Sim};

fn model(inputs: Vec<Elem>, kind: LayerKind, outputs: Vec<Elem>) -> QModel {
    let n_in = inputs.len();
    let n_out = outputs.len();
    QModel {
        name: "prop".into(),
        tensors: vec![
            QTensor { name: "x".into(), shape: vec![1, n_in], elems: inputs, offset: vec![] },
            QTensor { name: "y".into(), shape: vec![1, n_out], elems: outputs, offset: vec![] },
        ],
        layers: vec![Layer {
            name: "layer".into(),
            origin: vec!["node".into()],
            kind,
            inputs: vec![TensorId(0)],
            output: TensorId(1),
        }],
        input: TensorId(0),
        output: TensorId(1),
        prologue: Prologue {
            input_shape: vec![1, n_in],
            steps: vec![],
            conv: InputConv::Exact { frac: 0 },
            select: None,
        },
        epilogue: vec![],
        output_shape: vec![1, n_out],
        epilogue_shape: vec![1, n_out],
    }
}

fn port(m: &Module, name: &str) -> tachyon_rtl::SignalId {
    *m.ports.iter().find(|&&p| m.signal(p).name == name).expect("port exists")
}

/// Streams `vectors` through the netlist and returns the outputs in order.
fn simulate(m: &QModel, clock_ns: f64, vectors: &[Vec<i128>]) -> Vec<Vec<i128>> {
    simulate_with(m, clock_ns, Mult::Auto, 1, vectors)
}

/// [`simulate`] with a multiplication strategy and a reuse factor for every layer; vectors are
/// fed once every II cycles.
fn simulate_with(m: &QModel, clock_ns: f64, strategy: Mult, reuse: u32, vectors: &[Vec<i128>]) -> Vec<Vec<i128>> {
    let opts = HlsOptions {
        clock_ns,
        top: "dut".into(),
        strategy: m.layers.iter().map(|l| (l.name.clone(), strategy)).collect(),
        reuse: m.layers.iter().map(|l| (l.name.clone(), reuse)).collect(),
        ..HlsOptions::default()
    };
    let d = synthesize(m, &opts.validate(m).expect("parallel knobs are valid"));
    // A layer whose multipliers could not take turns (shifts only, or one product per lane)
    // stays parallel at II 1; vectors come every R cycles either way.
    assert!(d.ii == reuse.max(1) || d.ii == 1, "II {} at reuse {reuse}", d.ii);
    let ii = reuse.max(1) as usize;
    tachyon_rtl::verify(&d.module).expect("netlist verifies");
    let mut sim = Sim::new(&d.module).unwrap();
    let (rst, iv, id, ov, od) = (
        port(&d.module, "rst"),
        port(&d.module, "in_valid"),
        port(&d.module, "in_data"),
        port(&d.module, "out_valid"),
        port(&d.module, "out_data"),
    );
    sim.set_input(rst, 1);
    sim.step();
    sim.set_input(rst, 0);
    let mut outs = vec![];
    let total = vectors.len() * ii + d.latency as usize + 2;
    for c in 0..total {
        if let Some(v) = vectors.get(c / ii).filter(|_| c % ii == 0) {
            let mut bus = vec![0u128; (d.inputs.iter().map(|e| e.width).sum::<u32>() as usize).div_ceil(128) + 1];
            let mut off = 0u32;
            for (x, e) in v.iter().zip(&d.inputs) {
                for b in 0..e.width {
                    let bit = ((*x >> b.min(127)) & 1) as u128;
                    bus[((off + b) / 128) as usize] |= bit << ((off + b) % 128);
                }
                off += e.width;
            }
            sim.set_input(iv, 1);
            sim.set_input_chunks(id, &bus);
        } else {
            sim.set_input(iv, 0);
        }
        sim.eval();
        if sim.get(ov) == 1 {
            let bus = sim.get_chunks(od);
            let mut off = 0u32;
            let mut y = vec![];
            for e in &d.outputs {
                let mut raw: u128 = 0;
                for b in 0..e.width {
                    raw |= ((bus[((off + b) / 128) as usize] >> ((off + b) % 128)) & 1) << b;
                }
                let v =
                    if e.signed && raw >> (e.width - 1) == 1 { raw as i128 - (1i128 << e.width) } else { raw as i128 };
                y.push(v);
                off += e.width;
            }
            outs.push(y);
        }
        sim.step();
    }
    outs
}

fn elem() -> impl Strategy<Value = Elem> {
    (0i32..6, -300i128..300, 0i128..600).prop_map(|(f, lo, span)| Elem::new(f, lo, lo + span))
}

/// Narrow values at a fine binary point: requantizations then drop more bits than the value
/// has (where half-even rounding reads the sign bit as x[s]).
fn narrow_elem() -> impl Strategy<Value = Elem> {
    (4i32..12, -8i128..4, 0i128..12).prop_map(|(f, lo, span)| Elem::new(f, lo, lo + span))
}

fn vectors(ins: &[Elem], seed: u64, n: usize) -> Vec<Vec<i128>> {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut v: Vec<Vec<i128>> = vec![ins.iter().map(|e| e.lo).collect(), ins.iter().map(|e| e.hi).collect()];
    for _ in 0..n {
        v.push(ins.iter().map(|e| e.lo + (next() % ((e.hi - e.lo + 1) as u64)) as i128).collect());
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(60))]

    #[test]
    fn linear_layers_are_exact(ins in prop::collection::vec(elem(), 1..7), nout in 1usize..5, coeffs in prop::collection::vec(-300i128..300, 40), bias in prop::collection::vec(-5000i128..5000, 5), clock in prop::sample::select(vec![1.0f64, 2.5, 5.0]), seed: u64) {
        let rows: Vec<Vec<(u32, i128)>> = (0..nout).map(|o| (0..ins.len()).map(|j| (j as u32, coeffs[(o * 7 + j) % 40])).filter(|t| t.1 != 0).collect()).collect();
        let bias: Vec<i128> = (0..nout).map(|o| bias[o]).collect();
        // Output types from the exact intervals (as the lowering would compute them).
        let outs = linear_elems(&ins, &rows, &bias);
        let m = model(ins.clone(), LayerKind::Linear { rows, bias }, outs);
        tachyon_quantize::verify::verify(&m).unwrap();
        let v = vectors(&ins, seed, 40);
        let got = simulate(&m, clock, &v);
        let want: Vec<Vec<i128>> = v.iter().map(|x| interp::run(&m, x)).collect();
        prop_assert_eq!(got.len(), v.len());
        prop_assert_eq!(got, want);
    }

    #[test]
    fn wide_linear_layers_with_shared_patterns_are_exact(ins in prop::collection::vec(elem(), 4..10), nout in 2usize..6, coeffs in prop::collection::vec(-40i128..40, 140), seed: u64) {
        let rows: Vec<Vec<(u32, i128)>> = (0..nout).map(|o| (0..ins.len()).map(|j| (j as u32, coeffs[(o * 14 + j) % 140])).filter(|t| t.1 != 0).collect()).collect();
        let bias = vec![0; nout];
        let outs = linear_elems(&ins, &rows, &bias);
        let m = model(ins.clone(), LayerKind::Linear { rows, bias }, outs);
        let v = vectors(&ins, seed, 30);
        prop_assert_eq!(simulate(&m, 2.5, &v), v.iter().map(|x| interp::run(&m, x)).collect::<Vec<_>>());
    }

    /// Small designs are synthesized under every ranking of the CSE and both rules for stage
    /// boundaries at a layer's input: the kept design is one of them, never later and never
    /// larger (estimated LUTs) than the default's.
    #[test]
    fn the_ranking_portfolio_never_loses(ins in prop::collection::vec(elem(), 4..10), nout in 2usize..6, coeffs in prop::collection::vec(-40i128..40, 140)) {
        let rows: Vec<Vec<(u32, i128)>> = (0..nout).map(|o| (0..ins.len()).map(|j| (j as u32, coeffs[(o * 14 + j) % 140])).filter(|t| t.1 != 0).collect()).collect();
        let outs = linear_elems(&ins, &rows, &vec![0; nout]);
        let m = model(ins.clone(), LayerKind::Linear { rows, bias: vec![0; nout] }, outs);
        let opts = HlsOptions { clock_ns: 2.5, top: "dut".into(), ..HlsOptions::default() }.validate(&m).expect("valid");
        let d = synthesize(&m, &opts);
        prop_assert!(d.module.signals.len() <= tachyon_hls::PORTFOLIO_MAX_SIGNALS);
        let each: Vec<_> = Ranking::ALL.iter().flat_map(|r| [Cuts::Strict, Cuts::Loose].map(|c| synthesize_ranked(&m, &opts, *r, c))).collect();
        prop_assert!((d.latency, d.ii) <= (each[0].latency, each[0].ii));
        prop_assert!(d.report.total.lut <= each[0].report.total.lut);
        prop_assert!(each.iter().any(|e| e.module == d.module));
    }

    #[test]
    fn requantization_is_exact(ins in prop::collection::vec(prop_oneof![elem(), narrow_elem()], 1..5), to in -2i32..8, round in 0usize..8, sat: bool, bits in 2u32..10, signed: bool, clock in prop::sample::select(vec![1.0f64, 1.6, 2.5, 5.0]), seed: u64) {
        let (lo, hi) = if signed { (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1) } else { (0, (1i128 << bits) - 1) };
        let specs: Vec<Requant> = ins.iter().map(|e| Requant { from_frac: e.frac, to_frac: to, div: 1, round: Round::ALL[round], lo, hi, overflow: if sat { Overflow::Sat } else { Overflow::Wrap } }).collect();
        let m0 = model(ins.clone(), LayerKind::Requant(specs.clone()), vec![]);
        let outs: Vec<Elem> = ins.iter().zip(&specs).map(|(e, r)| tachyon_quantize::lower::requant_elem(e, r)).collect();
        let mut m = m0;
        m.tensors[1].shape = vec![1, outs.len()];
        m.tensors[1].elems = outs;
        tachyon_quantize::verify::verify(&m).unwrap();
        // Every value of every element (the ranges are small), so each rounding and saturation
        // threshold is crossed.
        let span = ins.iter().map(|e| e.hi - e.lo + 1).max().unwrap_or(1);
        let mut v = vectors(&ins, seed, 10);
        v.extend((0..span).map(|i| ins.iter().map(|e| e.lo + i % (e.hi - e.lo + 1)).collect::<Vec<i128>>()));
        // Tight clocks put a register after the rounding adder, where the saturation flags
        // compare the unrounded value instead.
        let got = simulate(&m, clock, &v);
        let want: Vec<Vec<i128>> = v.iter().map(|x| interp::run(&m, x)).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn division_by_odd_constants_is_exact(ins in prop::collection::vec(prop_oneof![elem(), narrow_elem()], 1..4), to in -3i32..6, round in 0usize..8, div in 1u32..40, bits in 2u32..10, signed: bool, seed: u64) {
        let div = 2 * div + 1;
        let (lo, hi) = if signed { (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1) } else { (0, (1i128 << bits) - 1) };
        let specs: Vec<Requant> = ins.iter().map(|e| Requant { from_frac: e.frac, to_frac: to, div, round: Round::ALL[round], lo, hi, overflow: Overflow::Sat }).collect();
        let outs: Vec<Elem> = ins.iter().zip(&specs).map(|(e, r)| tachyon_quantize::lower::requant_elem(e, r)).collect();
        let m = model(ins.clone(), LayerKind::Requant(specs.clone()), outs);
        tachyon_quantize::verify::verify(&m).unwrap();
        let v = vectors(&ins, seed, 60);
        // The interpreter is the exact rational rounding …
        for x in &v {
            for ((&xi, r), y) in x.iter().zip(&specs).zip(interp::run(&m, x)) {
                let (num, den) = if to >= r.from_frac { (xi << (to - r.from_frac), div as i128) } else { (xi, (div as i128) << (r.from_frac - to)) };
                prop_assert_eq!(y, tachyon_quantize::round::div_round(num, den, Round::ALL[round]).clamp(lo, hi));
            }
        }
        // … and the hardware equals it.
        prop_assert_eq!(simulate(&m, 2.5, &v), v.iter().map(|x| interp::run(&m, x)).collect::<Vec<_>>());
    }

    #[test]
    fn relu_and_steps_are_exact(ins in prop::collection::vec(elem(), 1..5), th in prop::collection::btree_set(-400i128..400, 0..5), vals in prop::collection::vec(-8i128..8, 6), seed: u64) {
        let th: Vec<i128> = th.into_iter().collect();
        let steps = Steps { thresholds: th.clone(), values: vals[..th.len() + 1].to_vec() };
        let (a, b) = (*steps.values.iter().min().unwrap(), *steps.values.iter().max().unwrap());
        let m = model(ins.clone(), LayerKind::Threshold(vec![steps; ins.len()]), vec![Elem::new(0, a, b); ins.len()]);
        let v = vectors(&ins, seed, 30);
        prop_assert_eq!(simulate(&m, 5.0, &v), v.iter().map(|x| interp::run(&m, x)).collect::<Vec<_>>());
        let outs = ins.iter().map(|e| Elem::new(e.frac, e.lo.max(0), e.hi.max(0))).collect();
        let m = model(ins.clone(), LayerKind::Relu, outs);
        prop_assert_eq!(simulate(&m, 5.0, &v), v.iter().map(|x| interp::run(&m, x)).collect::<Vec<_>>());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(60))]

    /// Table lookups, whether the inputs reach past the table's ends (clamped) or stay inside
    /// it (addressed by the varying low bits only, without the offset's subtraction).
    #[test]
    fn lookups_are_exact(ins in prop::collection::vec(elem(), 1..4), shift in 0u32..3, offset in -400i128..100, entries in prop::collection::vec(-50i128..50, 1..300), inside: bool, seed: u64) {
        // Inside: the inputs' range shrunk into the table's reach.
        let len = entries.len() as i128;
        let ins: Vec<Elem> = if inside {
            ins.iter().map(|e| {
                let (lo, hi) = ((offset + (e.lo.rem_euclid(len))) << shift, (offset + len - 1) << shift);
                Elem::new(e.frac, lo, lo.max(hi - (e.hi - e.lo).rem_euclid(len << shift)))
            }).collect()
        } else {
            ins
        };
        let (a, b) = (*entries.iter().min().unwrap(), *entries.iter().max().unwrap());
        let spec = LookupSpec { func: "table".into(), shift, offset, entries };
        let m = model(ins.clone(), LayerKind::Lookup(spec), vec![Elem::new(0, a, b); ins.len()]);
        let v = vectors(&ins, seed, 40);
        prop_assert_eq!(simulate(&m, 5.0, &v), v.iter().map(|x| interp::run(&m, x)).collect::<Vec<_>>());
    }

    /// Step functions whose thresholds are a table's index intervals (what a lookup composed
    /// with the layers after it becomes), on inputs inside the table's span or far past it:
    /// built as a table of the input's varying bits, as a clamped table or as comparators,
    /// whichever is cheapest, they compute what the interpreter computes.
    #[test]
    fn composed_tables_are_exact(ins in prop::collection::vec(elem(), 1..4), shift in 0u32..4, offset in -200i128..50, values in prop::collection::vec(-40i128..40, 2..200), wide: bool, seed: u64) {
        let thresholds: Vec<i128> = (1..values.len() as i128).map(|k| (k + offset) << shift).collect();
        let ins: Vec<Elem> = if wide { ins.iter().map(|e| Elem::new(e.frac, e.lo * 64, e.hi * 64 + 1)).collect() } else { ins };
        let (a, b) = (*values.iter().min().unwrap(), *values.iter().max().unwrap());
        let steps = Steps { thresholds, values };
        let m = model(ins.clone(), LayerKind::Threshold(vec![steps; ins.len()]), vec![Elem::new(0, a, b); ins.len()]);
        let v = vectors(&ins, seed, 40);
        prop_assert_eq!(simulate(&m, 5.0, &v), v.iter().map(|x| interp::run(&m, x)).collect::<Vec<_>>());
    }
}

/// Exact output types of `rows · x + bias` for inputs of types `ins`.
fn linear_elems(ins: &[Elem], rows: &[Vec<(u32, i128)>], bias: &[i128]) -> Vec<Elem> {
    rows.iter()
        .zip(bias)
        .map(|(r, &b)| {
            let (mut lo, mut hi) = (b, b);
            for &(j, c) in r {
                let e = ins[j as usize];
                lo += (c * e.lo).min(c * e.hi);
                hi += (c * e.lo).max(c * e.hi);
            }
            Elem::new(0, lo, hi)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Two dense layers in a row at clocks where the second starts late in a stage: built both
    /// as soon as it fits and from its inputs registered (the form with fewer register bits is
    /// kept), the pipeline computes what the interpreter computes.
    #[test]
    fn chained_linear_layers_are_exact(n in 3usize..9, coeffs in prop::collection::vec(-60i128..60, 128), clock in prop::sample::select(vec![1.0f64, 1.3, 1.6, 2.5]), seed: u64) {
        let ins = vec![Elem::new(0, -128, 127); n];
        let dense = |k: usize| -> Vec<Vec<(u32, i128)>> {
            (0..n).map(|o| (0..n).map(|j| (j as u32, coeffs[(k * 64 + o * 8 + j) % 128])).filter(|t| t.1 != 0).collect()).collect()
        };
        let (r1, r2) = (dense(0), dense(1));
        let h = linear_elems(&ins, &r1, &vec![3; n]);
        let y = linear_elems(&h, &r2, &vec![-5; n]);
        let mut m = model(ins.clone(), LayerKind::Linear { rows: r1, bias: vec![3; n] }, h.clone());
        m.tensors.push(QTensor { name: "z".into(), shape: vec![1, n], elems: y, offset: vec![] });
        m.layers.push(Layer { name: "second".into(), origin: vec!["node2".into()], kind: LayerKind::Linear { rows: r2, bias: vec![-5; n] }, inputs: vec![TensorId(1)], output: TensorId(2) });
        m.output = TensorId(2);
        tachyon_quantize::verify::verify(&m).unwrap();
        let v = vectors(&ins, seed, 40);
        prop_assert_eq!(simulate(&m, clock, &v), v.iter().map(|x| interp::run(&m, x)).collect::<Vec<_>>());
    }
}

/// A random constant matrix with `bits`-bit coefficients (signed), about `density` non-zero.
fn random_matrix(rows: usize, cols: usize, bits: u32, density: f64, seed: u64) -> Vec<Vec<(u32, i128)>> {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let span = 1u64 << bits;
    (0..rows)
        .map(|_| {
            (0..cols)
                .filter_map(|j| {
                    let keep = (next() % 1000) as f64 / 1000.0 < density;
                    let c = (next() % span) as i128 - (span / 2) as i128;
                    (keep && c != 0).then_some((j as u32, c))
                })
                .collect()
        })
        .collect()
}

/// A linear layer with a random matrix on `cols` inputs of `xbits` bits, its test vectors and
/// the naive dot products Σ c·x + b they must give.
struct MatrixCase {
    m: QModel,
    vectors: Vec<Vec<i128>>,
    naive: Vec<Vec<i128>>,
}

/// `random` random vectors plus, for each of the first `extreme_rows` outputs, the inputs that
/// maximize and minimize it.
#[allow(clippy::too_many_arguments)]
fn matrix_case(
    rows: usize,
    cols: usize,
    cbits: u32,
    xbits: u32,
    signed: bool,
    density: f64,
    seed: u64,
    bias: Vec<i128>,
    random: usize,
    extreme_rows: usize,
) -> MatrixCase {
    let (lo, hi) =
        if signed { (-(1i128 << (xbits - 1)), (1i128 << (xbits - 1)) - 1) } else { (0, (1i128 << xbits) - 1) };
    let ins = vec![Elem::new(0, lo, hi); cols];
    let matrix = random_matrix(rows, cols, cbits, density, seed);
    let outs: Vec<Elem> = matrix
        .iter()
        .zip(&bias)
        .map(|(r, &b)| {
            let (mut l, mut h) = (b, b);
            for &(_, c) in r {
                l += (c * lo).min(c * hi);
                h += (c * lo).max(c * hi);
            }
            Elem::new(0, l, h)
        })
        .collect();
    let m = model(ins.clone(), LayerKind::Linear { rows: matrix.clone(), bias: bias.clone() }, outs);
    tachyon_quantize::verify::verify(&m).unwrap();
    let mut vectors = vectors(&ins, seed, random);
    for r in matrix.iter().take(extreme_rows) {
        let mut up = vec![lo; cols];
        let mut down = vec![hi; cols];
        for &(j, c) in r {
            up[j as usize] = if c > 0 { hi } else { lo };
            down[j as usize] = if c > 0 { lo } else { hi };
        }
        vectors.push(up);
        vectors.push(down);
    }
    let naive = vectors
        .iter()
        .map(|x| {
            matrix
                .iter()
                .zip(&bias)
                .map(|(r, &b)| b + r.iter().map(|&(j, c)| c * x[j as usize]).sum::<i128>())
                .collect()
        })
        .collect();
    MatrixCase { m, vectors, naive }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Constant matrices up to 64×64 with 2–16-bit coefficients on signed or unsigned inputs of
    /// 2–16 bits: the adder graph (CSD digits, shared subexpressions, arrival-ordered trees,
    /// DSP products under each strategy) equals the naive dot product Σ c·x + b, computed
    /// here directly, for random inputs and for the inputs that drive each output to its
    /// extremes; the pipelined netlist verifies (every path balanced).
    #[test]
    fn constant_matrices_equal_the_naive_dot_product(
        rows in 1usize..=64, cols in 1usize..=64, cbits in 2u32..=16, xbits in 2u32..=16,
        signed: bool, density in 0.2f64..1.0, clock in prop::sample::select(vec![2.0f64, 5.0]),
        strategy in prop::sample::select(vec![Mult::Auto, Mult::Adders, Mult::Dsp]), seed: u64,
    ) {
        let bias: Vec<i128> = (0..rows).map(|i| (i as i128 * 7919 - 3000) << (cbits / 2)).collect();
        let c = matrix_case(rows, cols, cbits, xbits, signed, density, seed, bias, 24, 4);
        let got = simulate_with(&c.m, clock, strategy, 1, &c.vectors);
        prop_assert_eq!(got.len(), c.vectors.len());
        prop_assert_eq!(got, c.naive);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// A reuse factor R time-multiplexes the multipliers (II = R): the lanes' schedules,
    /// accumulators and read-out stage give exactly the naive dot product, for random and
    /// extreme inputs fed every R cycles.
    #[test]
    fn reused_multipliers_equal_the_naive_dot_product(
        rows in 1usize..=12, cols in 1usize..=20, cbits in 2u32..=12, xbits in 2u32..=12, signed: bool,
        density in 0.3f64..1.0, reuse in 2u32..=9, clock in prop::sample::select(vec![2.5f64, 5.0]), seed: u64,
    ) {
        let bias: Vec<i128> = (0..rows).map(|i| i as i128 * 37 - 100).collect();
        let c = matrix_case(rows, cols, cbits, xbits, signed, density, seed, bias, 16, 3);
        let got = simulate_with(&c.m, clock, Mult::Auto, reuse, &c.vectors);
        prop_assert_eq!(got, c.naive);
    }
}

/// A layer normalization spec for `ins` made the way the lowering makes one (V's bound, hmax,
/// p = 2·mant_bits) but with arbitrary positive 1/√ tables, gains, biases and shift.
fn layernorm_model(
    ins: &[Elem],
    mant_bits: u32,
    eps: i128,
    gains: &[i128],
    biases: &[i128],
    shift: u32,
    seed: u64,
) -> QModel {
    let n = ins.len() as i128;
    let amax = ins.iter().map(|e| e.lo.abs().max(e.hi.abs())).max().unwrap_or(0);
    let vmax = n * (2 * n * amax) * (2 * n * amax) + eps;
    let k = 128 - vmax.leading_zeros() as i32;
    let e = k - mant_bits as i32;
    let hmax = (e - e.rem_euclid(2)) / 2;
    let half = 1usize << (mant_bits - 1);
    let mut s = seed | 1;
    let mut table = || -> Vec<i128> {
        (0..half)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                1 + (s % (1u64 << (2 * mant_bits))) as i128
            })
            .collect()
    };
    let spec = LayerNormSpec {
        eps,
        mant_bits,
        rsqrt: [table(), table()],
        hmax,
        p: 2 * mant_bits,
        gain: gains[..ins.len()].to_vec(),
        shift,
        bias: biases[..ins.len()].to_vec(),
    };
    let outs = spec.output_bounds().into_iter().map(|(lo, hi)| Elem::new(0, lo, hi)).collect();
    model(ins.to_vec(), LayerKind::LayerNorm(spec), outs)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Layer normalization as the hardware orders it — S and Σx² in parallel, V = n²·Σx² − n·S²
    /// + eps, the bit length as a one-hot code selecting the ROM index and the shift, the gain
    /// before or after the DSP, rounding and bias in one constant — gives exactly the
    /// interpreter's step-by-step values, for random, constant and maximal-spread inputs.
    #[test]
    fn layer_normalization_is_exact(
        ins in prop::collection::vec(elem(), 2..12), mant_bits in 3u32..8, eps in 1i128..5000,
        gains in prop::collection::vec(-(1i128 << 18)..(1i128 << 18), 12),
        biases in prop::collection::vec(-500i128..500, 12), shift in 0u32..30,
        clock in prop::sample::select(vec![2.5f64, 5.0]), seed: u64,
    ) {
        // One grid for all inputs, as the lowering aligns them.
        let ins: Vec<Elem> = ins.iter().map(|e| Elem::new(0, e.lo, e.hi)).collect();
        let m = layernorm_model(&ins, mant_bits, eps, &gains, &biases, shift, seed);
        tachyon_quantize::verify::verify(&m).unwrap();
        let mut v = vectors(&ins, seed, 30);
        // Largest spread: alternate ends.
        v.push(ins.iter().enumerate().map(|(j, e)| if j % 2 == 0 { e.lo } else { e.hi }).collect());
        v.push(ins.iter().enumerate().map(|(j, e)| if j % 2 == 0 { e.hi } else { e.lo }).collect());
        let want: Vec<Vec<i128>> = v.iter().map(|x| interp::run(&m, x)).collect();
        let got = simulate(&m, clock, &v);
        prop_assert_eq!(got, want);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// The softmax — a maximum by steps of four (all pairwise comparators, the first winner's
    /// index, a 4:1 multiplexer), the exp ROM on m − x, the sum, the 1/x ROM, a multiplier
    /// and a rounding shift — gives exactly the interpreter's values, ties included.
    #[test]
    fn softmax_is_exact(
        n in 2usize..20, lo in -40i128..10, span in 0i128..60, exp_shift in 0u32..3,
        exp_len in 2usize..40, inv_len in 2usize..40, inv_shift in 0u32..4, out_shift in 0u32..12,
        round in 0usize..8, clock in prop::sample::select(vec![1.6f64, 2.5, 5.0]), seed: u64,
    ) {
        let ins = vec![Elem::new(0, lo, lo + span); n];
        let mut s = seed | 1;
        let mut next = move |m: u64| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % m) as i128
        };
        let exp_table: Vec<i128> = (0..exp_len).map(|_| next(1024)).collect();
        let inv_table: Vec<i128> = (0..inv_len).map(|_| 1 + next(512)).collect();
        let emax = *exp_table.iter().max().unwrap();
        let inv_base = (next(4) << inv_shift) * 8;
        let spec = SoftmaxSpec { exp_shift, exp_table, inv_base, inv_shift, inv_table: inv_table.clone(), out_shift, out_round: Round::ALL[round] };
        let top = (emax * inv_table.iter().max().unwrap()) >> out_shift;
        let outs = vec![Elem::new(0, 0, top + 1); n];
        let m = model(ins.clone(), LayerKind::Softmax(spec), outs);
        tachyon_quantize::verify::verify(&m).unwrap();
        let mut v = vectors(&ins, seed, 40);
        // Ties at the maximum, in every pair of positions.
        for i in 0..n.min(5) {
            v.push((0..n).map(|j| if j == i || j == (i + 1) % n { lo + span } else { lo }).collect());
        }
        let want: Vec<Vec<i128>> = v.iter().map(|x| interp::run(&m, x)).collect();
        let got = simulate(&m, clock, &v);
        prop_assert_eq!(got, want);
    }
}

/// Saturating requantizations that drop more bits than i128 can scale (from the 2^-125, 2^-127
/// and 2^-140 grids), in every rounding mode, at a tight and a loose clock. Before the fix a
/// shift of 128 or more overflowed the rounding offset (2^(s−1)) and rounded wrong.
#[test]
fn requantization_by_a_huge_shift_is_exact() {
    let ins = vec![
        Elem::new(125, -(1i128 << 100), 1i128 << 100),
        Elem::new(127, -5, 7),
        Elem::new(140, -(1i128 << 120), 1i128 << 120),
    ];
    for round in Round::ALL {
        let specs: Vec<Requant> = ins
            .iter()
            .map(|e| Requant { from_frac: e.frac, to_frac: 0, div: 1, round, lo: -2, hi: 1, overflow: Overflow::Sat })
            .collect();
        let outs: Vec<Elem> =
            ins.iter().zip(&specs).map(|(e, r)| tachyon_quantize::lower::requant_elem(e, r)).collect();
        let mut m = model(ins.clone(), LayerKind::Requant(specs), vec![]);
        m.tensors[1].shape = vec![1, outs.len()];
        m.tensors[1].elems = outs;
        tachyon_quantize::verify::verify(&m).unwrap();
        let mut v = vectors(&ins, 7, 30);
        v.push(vec![(1i128 << 100) - 1, 0, (1i128 << 120) - 1]);
        v.push(vec![-(1i128 << 99), -5, -(1i128 << 120)]);
        let want: Vec<Vec<i128>> = v.iter().map(|x| interp::run(&m, x)).collect();
        for clock in [0.8, 5.0] {
            assert_eq!(simulate(&m, clock, &v), want, "{round:?} at {clock} ns");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Products of two activations (attention's Q·Kᵀ, A·V) taking turns on their multipliers
    /// (II = R), straight on the model's inputs (the layer starts at stage 0, so the phase
    /// counter's early start needs a stage more): every product exact, for random and extreme
    /// inputs fed every R cycles, some operands constant (those stay parallel).
    #[test]
    fn reused_products_are_exact(
        ins in prop::collection::vec(elem(), 2..9), picks in prop::collection::vec((0usize..64, 0usize..64), 1..24),
        reuse in 1u32..=5, clock in prop::sample::select(vec![1.5f64, 2.5, 5.0]), seed: u64,
    ) {
        let n = ins.len();
        let pairs: Vec<(u32, u32)> = picks.iter().map(|&(a, c)| ((a % n) as u32, (c % n) as u32)).collect();
        let outs: Vec<Elem> = pairs.iter().map(|&(a, c)| {
            let (x, y) = (ins[a as usize], ins[c as usize]);
            let k = [x.lo * y.lo, x.lo * y.hi, x.hi * y.lo, x.hi * y.hi];
            Elem::new(x.frac + y.frac, *k.iter().min().unwrap(), *k.iter().max().unwrap())
        }).collect();
        let m = model(ins.clone(), LayerKind::Product(pairs.clone()), outs);
        let vs = vectors(&ins, seed, 12);
        let want: Vec<Vec<i128>> = vs.iter().map(|v| pairs.iter().map(|&(a, c)| v[a as usize] * v[c as usize]).collect()).collect();
        let got = simulate_with(&m, clock, Mult::Auto, reuse, &vs);
        prop_assert_eq!(got, want);
    }
}
