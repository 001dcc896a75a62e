//! Property: `verify` returns (never panics) on arbitrary malformed modules — random widths
//! (including 0 and > 128), names, kinds, dangling ids, huge shift/slice amounts, wrong-size
//! tables — and whatever it accepts can be simulated, dumped and emitted without panicking.

use proptest::prelude::*;
use tachyon_rtl::{
    dump, emit_verilog, verify, Assign, CmpOp, Expr, Module, Reg, RegRole, Signal, SignalId, SignalKind, Sim,
};

const NAMES: [&str; 6] = ["a", "b", "wire", "x_1", "9z", "clk"];

fn id(max: u32) -> impl Strategy<Value = SignalId> {
    (0..max + 3).prop_map(SignalId)
}

fn expr(n: u32) -> impl Strategy<Value = Expr> {
    let ops = [CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge, CmpOp::Eq, CmpOp::Ne];
    (
        0u8..20,
        id(n),
        id(n),
        id(n),
        any::<i128>(),
        prop_oneof![0u32..8, any::<u32>()],
        prop::collection::vec(-4i128..20, 0..5),
        0usize..6,
    )
        .prop_map(move |(k, a, b, c, v, amt, entries, op)| match k {
            0 => Expr::Const(if amt % 2 == 0 { v } else { v % 7 }),
            1 => Expr::Ext(a),
            2 => Expr::Add(a, b),
            3 => Expr::Sub(a, b),
            4 => Expr::Neg(a),
            5 => Expr::Mul(a, b),
            6 => Expr::Shl(a, amt),
            7 => Expr::Shr(a, amt),
            8 => Expr::Slice { src: a, lo: amt },
            9 => Expr::Concat(vec![a, b, c][..(amt as usize % 4).min(3)].to_vec()),
            10 => Expr::Mux { sel: a, t: b, f: c },
            11 => Expr::Cmp(ops[op], a, b),
            12 => Expr::And(a, b),
            13 => Expr::Or(a, b),
            14 => Expr::Xor(a, b),
            15 => Expr::Not(a),
            16 => Expr::Add3(
                [(a, amt, op % 2 == 0), (b, amt / 3, op % 3 == 0), (c, 1, op > 2)]
                    .map(|(sig, shift, neg)| tachyon_rtl::Addend { sig, shift, neg }),
            ),
            17 => Expr::GatedAdd([(a, b, amt, op % 2 == 0), (c, a, amt / 5, op > 3)].map(|(gate, sig, shift, neg)| {
                tachyon_rtl::Gated { gate, term: tachyon_rtl::Addend { sig, shift, neg } }
            })),
            18 => Expr::Add3Gated {
                t: [(a, amt, op % 2 == 0), (b, amt / 3, false), (c, amt / 2, op > 2)]
                    .map(|(sig, shift, neg)| tachyon_rtl::Addend { sig, shift, neg }),
                gate: b,
            },
            _ => Expr::Table { index: a, entries },
        })
}

fn module() -> impl Strategy<Value = Module> {
    (1u32..7).prop_flat_map(|n| {
        let signal = (0usize..6, prop_oneof![1u32..9, 0u32..300], any::<bool>(), 0u8..4).prop_map(
            |(name, width, signed, kind)| Signal {
                name: NAMES[name].to_string(),
                width,
                signed,
                kind: [SignalKind::Input, SignalKind::Output, SignalKind::Wire, SignalKind::Reg][kind as usize],
                origin: None,
            },
        );
        (
            prop::collection::vec(signal, n as usize),
            prop::collection::vec(id(n), 0..5),
            prop::collection::vec((id(n), expr(n)).prop_map(|(dst, expr)| Assign { dst, expr }), 0..6),
            prop::collection::vec(
                (id(n), id(n), prop::option::of(-3i128..3)).prop_map(|(q, d, reset)| Reg {
                    q,
                    d,
                    reset,
                    role: RegRole::Pipeline,
                }),
                0..3,
            ),
            prop::option::of(id(n)),
            prop::option::of(id(n)),
        )
            .prop_map(|(mut signals, ports, assigns, regs, clk, rst)| {
                // Make names unique half of the time so later checks get exercised too.
                if signals.len() % 2 == 0 {
                    for (i, s) in signals.iter_mut().enumerate() {
                        s.name = format!("n{i}");
                    }
                }
                Module {
                    name: "m".into(),
                    doc: vec![],
                    signals,
                    ports,
                    assigns,
                    regs,
                    clk,
                    rst,
                    fabric: Default::default(),
                    name_index: Default::default(),
                }
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn verify_never_panics(m in module()) {
        let _ = dump(&m);
        if verify(&m).is_ok() {
            let _ = emit_verilog(&m);
            let mut sim = Sim::new(&m).expect("verified");
            sim.step();
            for id in m.signal_ids() {
                let _ = sim.get(id);
            }
        }
    }
}
