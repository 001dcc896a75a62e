//! The `stream` style of convolutional networks: pixels enter one per clock in raster order,
//! every sliding-window layer is one kernel engine fed by a line buffer, and what follows the
//! spatial part (flatten, dense layers, softmax) is the ordinary parallel pipeline, fed once per
//! frame.
//!
//! **Which layers stream.** Nothing here knows what a Conv is. The quantized IR has already
//! reduced convolutions, pools, pads, channel concatenations, residual sums and layout
//! transposes to linear layers, maxima, gathers and element-wise layers over flat tensors. A
//! layer streams when that form is *provably* a sliding window over a pixel grid ([`plan`]):
//! with the tensors laid out channels-first or channels-last, every output row must equal one
//! kernel per output channel — taps at offsets `out_pos · stride + δ` on input channels — with
//! the taps that fall outside the grid dropped, and one bias per channel. The check compares
//! every row of the layer, so a layer either streams exactly or stays parallel. Element-wise
//! layers stream when their parameters are the same for every pixel of a channel. A gather that
//! is a nearest-neighbour upsampling by integer factors (`Resize`, `Upsample`) streams when its
//! input's lattice is coarse enough to take the extra pixels (after a stride, as in a U-Net's
//! decoder): each output phase is a fixed delay of the source pixel (line replay).
//!
//! **Schedule.** Static, with no handshakes and no stalls. Each streamed tensor has a lattice
//! `(a, b)`: pixel `(r, c)` of a frame is on its wires `stage + a·r + b·c` cycles after the
//! frame's first beat (`stage` being the Builder's stage of the channel values). The input has
//! `a = W, b = 1`. A window layer with stride `(sr, sc)` and largest tap offsets `(Δr, Δc)`
//! emits output pixel `(r', c')` when its last input arrives, so its output lattice is
//! `(a·sr, b·sc)` and every tap is a fixed delay `a·(Δr − δr) + b·(Δc − δc)` of the input: the
//! line buffer is a shift register (registers without reset, which synthesis packs into SRLs)
//! with one tap register per kernel tap. Taps that fall outside the grid for an output position
//! (padding, and the wrap-around into the neighbouring row or frame) are masked to zero (to the
//! smallest value for a maximum) by registered comparisons of per-layer position counters,
//! restarted by the frame-start pulse delayed to the layer. Branches that meet (residual sums,
//! channel concatenations) are aligned by the Builder's delay registers like any other values:
//! these are the FIFOs between layers, with depths derived from the schedule. Frames may follow
//! each other back to back (II = pixels) or with gaps; the beats of one frame are consecutive.
//!
//! The tap registers and masks are state registers declaring the stage of the emission (see
//! `tachyon_rtl::RegRole::State`): the netlist verifier trusts this schedule, co-simulation
//! checks it.

//!
//! Files: [`plan`] (analysis: which layers stream, the schedule), `window` (recognizing a
//! sliding window in a layer's rows), `lower` (line buffers, masks, kernel engines, capture).

mod lower;
mod plan;
mod window;

pub use lower::{capture, channel_hull, frame_start, lower_elementwise, lower_upsample, lower_window, Stream};
pub use plan::{
    plan, Lattice, PixelMap, Plan, StreamError, StreamLayer, StreamTensor, StreamedLayer, Upsample, Window, WindowOp,
};
