//! Hand-built fixture modules: a tiny valid pipeline for verifier tests and a "coverage"
//! design exercising every Expr kind at a list of widths, signed and unsigned.

use super::gen::fitting;
use super::rng::Rng;
use tachyon_rtl::{CmpOp, Expr, Module, SignalId};

/// `y = reg(a + b)` with clk/rst, `a: i8`, `b: u4`, `sum: i9`, reset 0, and a valid chain.
pub fn small() -> Module {
    let mut m = Module::new("small_pipe");
    m.add_clock();
    m.add_reset();
    let a = m.add_input("a", 8, true);
    let b = m.add_input("b", 4, false);
    let v = m.add_input("valid_in", 1, false);
    let sum = m.wire("sum", 9, true, Some("add0"), Expr::Add(a, b));
    let q = m.reg("sum_q", sum, Some(0), Some("add0"));
    let vq = m.reg("valid_q", v, Some(0), None);
    let y = m.add_output("y", 9, true);
    m.assign(y, Expr::Ext(q));
    let vo = m.add_output("valid_out", 1, false);
    m.assign(vo, Expr::Ext(vq));
    m
}

/// Every Expr kind (all six comparisons) with destinations of each width in `widths`,
/// operands drawn from one signed and one unsigned input per width; every result is
/// registered (every other one with a reset value) and output, plus a few stage-1 ops on
/// registered values. Latency 1.
pub fn coverage(name: &str, widths: &[u32], seed: u64) -> Module {
    let mut rng = Rng::new(seed);
    let mut m = Module::new(name);
    m.doc.push(format!("coverage design, widths {widths:?}"));
    m.add_clock();
    m.add_reset();
    // ins[2j] unsigned, ins[2j+1] signed, width widths[j].
    let mut ins = Vec::new();
    for &w in widths {
        ins.push(m.add_input(&format!("u{w}"), w, false));
        ins.push(m.add_input(&format!("i{w}"), w, true));
    }
    let n = ins.len();
    let sel = ins[0]; // a 1-bit input when widths[0] == 1
    let mut results: Vec<SignalId> = Vec::new();
    for kind in 0..22usize {
        for (j, &w) in widths.iter().enumerate() {
            let s = (j + kind) % 2 == 1;
            let a = ins[(2 * j + kind) % n];
            let b = ins[(2 * j + 3 * kind + 5) % n];
            let wa = m.signal(a).width;
            let name = format!("k{kind}_w{w}");
            let r = match kind {
                0 => {
                    let v = fitting(rng.next_u128(), w, s);
                    m.wire(&name, w, s, None, Expr::Const(v))
                }
                1 => m.wire(&name, w, s, None, Expr::Ext(a)),
                2 => m.wire(&name, w, s, None, Expr::Add(a, b)),
                3 => m.wire(&name, w, s, None, Expr::Sub(a, b)),
                4 => m.wire(&name, w, s, None, Expr::Neg(a)),
                5 => m.wire(&name, w, s, None, Expr::Mul(a, b)),
                6 => {
                    let k = [0, 1, 3, w - 1, w, w + 2][j % 6];
                    m.wire(&name, w, s, None, Expr::Shl(a, k))
                }
                7 => {
                    let k = [0, 1, wa / 2, wa - 1, wa, wa + 5][j % 6];
                    m.wire(&name, w, s, None, Expr::Shr(a, k))
                }
                8 => {
                    let src = ins[ins.len() - 1 - (j % 2)]; // the widest inputs
                    let ws = m.signal(src).width;
                    let wd = w.min(ws);
                    m.wire(&name, wd, s, None, Expr::Slice { src, lo: (ws - wd) / 2 })
                }
                9 => {
                    let wb = m.signal(b).width;
                    let parts = if wa + wb <= 128 { vec![a, b] } else { vec![b] };
                    let total = parts.iter().map(|&p| m.signal(p).width).sum();
                    m.wire(&name, total, s, None, Expr::Concat(parts))
                }
                10 => m.wire(
                    &name,
                    w,
                    s,
                    None,
                    Expr::Mux { sel: if m.signal(sel).width == 1 { sel } else { ins[1] }, t: a, f: b },
                ),
                11..=16 => {
                    let op = [CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge, CmpOp::Eq, CmpOp::Ne][kind - 11];
                    // Compare against an operand of the same width half the time, to hit equality.
                    let b = if j % 2 == 0 { ins[2 * j + usize::from(kind % 2 == 0)] } else { b };
                    m.wire(&name, 1, s, None, Expr::Cmp(op, a, b))
                }
                17..=19 => {
                    let (x, y) = (ins[2 * j], ins[2 * j + 1]);
                    let e = match kind {
                        17 => Expr::And(x, y),
                        18 => Expr::Or(x, y),
                        _ => Expr::Xor(y, x),
                    };
                    m.wire(&name, w, s, None, e)
                }
                20 => m.wire(&name, w, s, None, Expr::Not(ins[2 * j + usize::from(s)])),
                _ => {
                    let index = ins[(2 * j) % 4 + usize::from(j % 3 == 0)];
                    let iw = m.signal(index).width;
                    if iw > 8 {
                        continue;
                    }
                    let entries = (0..1usize << iw).map(|_| fitting(rng.next_u128(), w, s)).collect();
                    m.wire(&name, w, s, Some("table"), Expr::Table { index, entries })
                }
            };
            results.push(r);
        }
    }
    let mut staged = Vec::new();
    for (i, &r) in results.iter().enumerate() {
        let (w, s) = (m.signal(r).width, m.signal(r).signed);
        let reset = (i % 2 == 1).then(|| fitting(rng.next_u128(), w, s));
        let rn = format!("{}_q", m.signal(r).name);
        staged.push(m.reg(&rn, r, reset, None));
    }
    // Stage-1 ops on registered values.
    let q = |i: usize| staged[i % staged.len()];
    let s1 = m.wire("s1_add", 128, true, None, Expr::Add(q(3), q(40)));
    let s1m = m.wire("s1_mul", 100, false, None, Expr::Mul(q(41), q(44)));
    let s1c = m.wire("s1_cmp", 1, false, None, Expr::Cmp(CmpOp::Lt, q(2), q(9)));
    staged.extend([s1, s1m, s1c]);
    for (i, &r) in staged.iter().enumerate() {
        let (w, s) = (m.signal(r).width, m.signal(r).signed);
        let o = m.add_output(&format!("o{i}"), w, s);
        m.assign(o, Expr::Ext(r));
    }
    m
}
