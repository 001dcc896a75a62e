//! The stream style in the build ([`crate::layers::stream`]): the input as a stream of pixel
//! beats, each streamed layer lowered on the streams of its inputs, and a streamed tensor
//! captured whole (all its pixels at once) where a parallel layer or the output reads it.
//!
//! Expects: the stream plan of the options (a streamed layer's inputs stream, by the plan's
//! construction). Guarantees: the II is the number of beats per frame; a streamed tensor is
//! captured at most once.

use super::build::Build;
use super::ports::Ports;
use crate::layers::stream::{self, Plan, Stream, StreamLayer, StreamedLayer};
use tachyon_quantize::config::Strategy;
use tachyon_quantize::TensorId;
use tachyon_rtl::Expr;

impl<'a> Build<'a> {
    /// The input of a stream design: one pixel (all channels) per beat, counted into frames.
    pub(super) fn input_stream(&mut self, p: &'a Plan, ports: &Ports) {
        let b = &mut self.b;
        let start = stream::frame_start(b, ports.in_valid, p.beats);
        b.set_valid(start);
        let mut off = 0;
        let mut xs = vec![];
        for (ch, (e, &(lo, hi))) in ports.inputs.iter().zip(&ports.in_hull).enumerate() {
            let sig =
                b.m.wire(&format!("in_c{ch}"), e.width, e.signed, None, Expr::Slice { src: ports.in_data, lo: off });
            off += e.width;
            xs.push(b.source(sig, lo, hi));
        }
        let map = p.input_map();
        let s = Stream { chans: b.register_all(&xs), h: map.h, w: map.w, lat: p.input.lat };
        self.streams[self.m.input.0 as usize] = Some((s, &p.input));
        self.ii = p.beats as u32;
    }

    /// A streamed layer (the Builder's prefix and origin already name it).
    pub(super) fn lower_streamed(&mut self, li: usize, sl: &'a StreamedLayer, strategy: Strategy) {
        let l = &self.m.layers[li];
        let xs: Vec<Stream> = l
            .inputs
            .iter()
            .map(|t| self.streams[t.0 as usize].as_ref().expect("the plan streams a streamed layer's inputs").0.clone())
            .collect();
        let start = xs.iter().flat_map(|s| s.chans.iter().filter_map(|v| v.stage)).max().unwrap_or(0);
        let hull = stream::channel_hull(&self.m.tensor(l.output).elems, &sl.out);
        let b = &mut self.b;
        let y = match &sl.how {
            StreamLayer::Elementwise(kind) => stream::lower_elementwise(b, kind, &xs[0], &hull),
            StreamLayer::Window(win) => stream::lower_window(b, win, &xs, &hull, strategy),
            StreamLayer::Upsample(up) => stream::lower_upsample(b, up, &xs[0], sl.out.lat, &hull),
        };
        let end = y.chans.iter().filter_map(|v| v.stage).max().unwrap_or(start);
        self.stages[li] = (start, end.max(start));
        self.streams[l.output.0 as usize] = Some((y, &sl.out));
    }

    /// A streamed tensor read by a parallel layer or the output: all its pixels at once (once).
    pub(super) fn capture(&mut self, t: TensorId) {
        let k = t.0 as usize;
        if self.vals[k].is_some() {
            return;
        }
        let Some((s, st)) = &self.streams[k] else { return };
        let tensor = self.m.tensor(t);
        self.b.prefix =
            format!("{}_frame", tensor.name.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>());
        self.vals[k] = Some(stream::capture(&mut self.b, s, st, &tensor.elems));
    }
}
