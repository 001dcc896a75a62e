//! The verifier of the quantized IR ([`QModel`]). [`verify`] checks, in this order, and reports
//! the first violation as a [`VerifyError`] naming the layer (or the model input/output):
//!
//! 1. **Ids** — the model's `input` and `output` and every layer's `inputs` and `output` index
//!    an existing tensor.
//! 2. **Layer names and origins** — every layer name is Verilog-friendly (ASCII letters, digits
//!    and `_`, not empty, no leading digit) and unique; every layer names at least one ONNX node
//!    in `origin`.
//! 3. **Tensors** — for the model input and every layer's output: the element count equals the
//!    product of the shape; every element interval is non-empty (`lo ≤ hi`) and on a grid
//!    `2^-frac` with `|frac| ≤` [`MAX_FRAC`]; a layer's output elements are at most
//!    [`MAX_WIDTH`] bits wide (the input bus may carry any `i128` interval).
//! 4. **Input conversion** — when the prologue quantizes to a configured type, the type is 1 to
//!    64 bits wide and every input element is on its grid with its interval inside its range.
//! 5. **Dataflow** — layers are in topological order: each reads at least one tensor and only
//!    tensors already defined (the model input or an earlier layer's output); the input is never
//!    written and no tensor is written twice; the model output is defined. (Tensors nobody
//!    writes may remain: fusion leaves them behind, unread.)
//! 6. **Element counts and indices** — per kind: a `Linear` has one row and one bias per
//!    output; `Requant`, `Relu`, `Threshold`, `Lookup`, `Softmax` and `LayerNorm` have as many
//!    outputs as inputs, and one requant spec, step function, gain and bias per element;
//!    `Gather` sources, `Max` sets and `Product` pairs are one per output. Every element index
//!    (row entry, source, set member, pair operand) addresses the concatenation of the inputs.
//! 7. **Grids** — a requant spec's `from_frac`/`to_frac` are its input's/output's grids; `Relu`,
//!    `Gather` and `Max` keep each element's grid; a product is on the sum of its operands'
//!    grids; the inputs of `Lookup`, `Softmax` and `LayerNorm` share one grid.
//! 8. **Parameters** — requant ranges are non-empty and divisors odd (exactly 1 with
//!    wrap-around); step functions have strictly increasing thresholds and one more value than
//!    thresholds; lookup and softmax tables are non-empty (softmax entries non-negative) and
//!    index shifts below 128; `Max` sets are non-empty; layer normalization has 2 to
//!    [`MAX_MANT_BITS`] mantissa bits, two 1/√x tables of `2^(mant_bits−1)` entries, `eps ≥ 1`,
//!    exponents `p`, `hmax`, `shift` of at most 2^20 in magnitude and an `hmax` that covers the
//!    largest variance its input intervals allow.
//! 9. **Soundness** — every output element interval contains everything the layer can produce
//!    from its input intervals (so widths derived from intervals never overflow); the bound is
//!    computed in checked `i128` arithmetic and an overflow is itself a violation.
//! 10. **Epilogue** — when float steps follow the integer output, the value they read (shape
//!     `epilogue_shape`) has as many elements as the output tensor.
//!
//! `verify` never panics, whatever the model contains. [`crate::lower`] runs it on every model
//! it returns; tests run it after every hand-built or mutated model.

mod bounds;
mod error;
mod kinds;
mod structure;

pub use error::{Site, VerifyError};

use crate::qir::QModel;

/// Largest `|frac|` of an element's grid `2^-frac` (power-of-two scales of f64 models stay
/// within ±1100; the bound keeps grid arithmetic far from `i32` overflow).
pub const MAX_FRAC: i32 = 1 << 16;

/// Widest element interval, in bits (headroom below `i128` for the hardware's arithmetic).
pub const MAX_WIDTH: u32 = 120;

/// Most mantissa bits of a layer normalization's 1/√x tables.
pub const MAX_MANT_BITS: u32 = 30;

/// Checks every invariant listed in the [module docs](self).
pub fn verify(m: &QModel) -> Result<(), VerifyError> {
    structure::check_ids(m)?;
    structure::check_names(m)?;
    structure::check_input(m)?;
    let mut writers = structure::Writers::new(m);
    for l in &m.layers {
        writers.define(l)?;
        structure::check_tensor(m, &Site::Layer(l.name.clone()), l.output, MAX_WIDTH)?;
        let xe = m.layer_input_elems(l);
        let ye = &m.tensor(l.output).elems;
        kinds::check(l, &xe, ye)?;
        bounds::check(l, &xe, ye, &crate::relations::max_differences(m, l))?;
    }
    writers.check_output(m)?;
    structure::check_epilogue(m)
}
