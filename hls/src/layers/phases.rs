//! Building blocks of time-multiplexed hardware (reuse factors): hold registers that keep a
//! token's inputs for R cycles, a phase counter restarted by each token, and multiplexers that
//! pick one of several signals by phase. All are state registers or logic on them, so the
//! netlist verifier treats them as unstaged; what reads them declares its own stage.

use crate::pipeline::{Builder, Val};
use tachyon_quantize::fixed::bits_for;
use tachyon_rtl::{CmpOp, Expr, SignalId};

/// A phase counter: 0 in the cycle after a token arrives, then counting (wrapping).
pub struct Phases {
    pub cnt: SignalId,
    /// Counter bits, least significant first.
    pub bits: Vec<SignalId>,
    /// `cnt == 0`.
    pub first: SignalId,
    /// Number of phases the multiplexers distinguish (`2^bits.len()`).
    pub span: usize,
}

/// The phase counter of a schedule of `reuse` phases started by the 1-bit `start`.
pub fn phases(b: &mut Builder, prefix: &str, reuse: u32, start: SignalId, origin: Option<&str>) -> Phases {
    let cbits = bits_for(0, reuse as i128 - 1).max(1);
    let cnt = b.m.state_reg(&format!("{prefix}_phase"), cbits, false, Some(0), None, origin);
    let one = b.m.wire(&format!("{prefix}_one"), 1, false, None, Expr::Const(1));
    let inc = b.m.wire(&format!("{prefix}_phase_inc"), cbits + 1, false, origin, Expr::Add(cnt, one));
    let wrapped = b.m.wire(&format!("{prefix}_phase_wrap"), cbits, false, origin, Expr::Slice { src: inc, lo: 0 });
    let zero = b.m.wire(&format!("{prefix}_phase_zero"), cbits, false, None, Expr::Const(0));
    let next =
        b.m.wire(&format!("{prefix}_phase_next"), cbits, false, origin, Expr::Mux { sel: start, t: zero, f: wrapped });
    b.m.set_state_input(cnt, next);
    let bits = (0..cbits)
        .map(|k| b.m.wire(&format!("{prefix}_phase_b{k}"), 1, false, origin, Expr::Slice { src: cnt, lo: k }))
        .collect();
    let first = b.m.wire(&format!("{prefix}_first"), 1, false, origin, Expr::Cmp(CmpOp::Eq, cnt, zero));
    Phases { cnt, bits, first, span: 1 << cbits }
}

/// A register that takes `x` when `start` is high and keeps it otherwise.
pub fn hold(b: &mut Builder, name: &str, x: Val, start: SignalId, origin: Option<&str>) -> SignalId {
    let (w, sg) = (x.width(), x.signed());
    let q = b.m.state_reg(name, w, sg, None, None, origin);
    let d = b.m.wire(&format!("{name}_next"), w, sg, origin, Expr::Mux { sel: start, t: x.sig, f: q });
    b.m.set_state_input(q, d);
    q
}

/// `inputs[phase]` (one signal per phase of `p.span`) at `width`/`signed`, as a multiplexer tree
/// on the counter bits; returns the signal and the number of mux levels.
pub fn by_phase(
    b: &mut Builder,
    name: &str,
    inputs: &[SignalId],
    p: &Phases,
    width: u32,
    signed: bool,
    origin: Option<&str>,
) -> (SignalId, u32) {
    debug_assert_eq!(inputs.len(), p.span);
    let mut level: Vec<SignalId> = inputs
        .iter()
        .map(|&h| {
            let sg = b.m.signal(h);
            if sg.width == width && sg.signed == signed {
                h
            } else {
                b.m.wire(&format!("{name}_x"), width, signed, origin, Expr::Ext(h))
            }
        })
        .collect();
    let mut levels = 0;
    for &bit in &p.bits {
        if level.windows(2).all(|w| w[0] == w[1]) {
            level.truncate(1);
            break;
        }
        level = level
            .chunks(2)
            .map(|q| {
                if q[0] == q[1] {
                    q[0]
                } else {
                    b.m.wire(&format!("{name}_m"), width, signed, origin, Expr::Mux { sel: bit, t: q[1], f: q[0] })
                }
            })
            .collect();
        levels += 1;
    }
    (level[0], levels)
}
