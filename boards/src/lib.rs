//! The part and board database: resources, family and default clock of the FPGAs Tachyon's
//! users target. The data lives in `data/boards.json`; this crate only reads it.

/// One board or part.
#[derive(Clone, Debug, PartialEq, serde::Deserialize, serde::Serialize)]
pub struct Board {
    pub name: String,
    /// Vendor part string.
    pub part: String,
    /// yosys family (`xcup`, `xcu`, `xc7`, `ice40`).
    pub family: String,
    pub lut: u64,
    pub ff: u64,
    pub dsp: u64,
    pub bram36: u64,
    pub uram: u64,
    pub default_clock_ns: f64,
    pub note: String,
    /// The clock period the pipeline is scheduled for when no --clock-ns is given, if it is not
    /// `default_clock_ns`: registers are placed by the UltraScale+ delay model, and iCE40 logic
    /// and routing are about ten times slower, so a design meant for the iCEBreaker's 12 MHz is
    /// scheduled as if for 5 ns (it then reaches 13–40 MHz in nextpnr).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_clock_ns: Option<f64>,
    /// How much slower the part's logic and routing are than the UltraScale+ -2 the delay model
    /// describes (1 when absent): registers are placed as if the clock were this much shorter,
    /// and the report's stage delays and Fmax estimate are scaled back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_scale: Option<f64>,
    /// Frequency of the board's own oscillator in MHz (boards with a board-top flow).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub osc_mhz: Option<f64>,
    /// Package pins of the board's I/O by role (`clk`, `uart_rx`, `uart_tx`, `button_n`,
    /// `led_r_n`, `led_g_n`), for generated board tops; empty for bare parts.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub pins: std::collections::BTreeMap<String, String>,
}

/// Every known board, in file order.
pub fn boards() -> Vec<Board> {
    serde_json::from_str(include_str!("../data/boards.json")).expect("boards.json is valid (checked by a test)")
}

/// A board name that is not in the database.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("unknown board '{name}'; known boards: {}", known.join(", "))]
pub struct UnknownBoard {
    pub name: String,
    /// Every known board's name, in file order.
    pub known: Vec<String>,
}

/// Looks a board up by name (case-insensitive); the error lists the known names.
pub fn find(name: &str) -> Result<Board, UnknownBoard> {
    let all = boards();
    all.iter()
        .find(|b| b.name.eq_ignore_ascii_case(name))
        .cloned()
        .ok_or_else(|| UnknownBoard { name: name.to_string(), known: all.iter().map(|b| b.name.clone()).collect() })
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_parses_and_names_are_unique() {
        let b = super::boards();
        assert!(b.len() >= 7);
        let mut names: Vec<_> = b.iter().map(|b| b.name.clone()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), b.len());
        assert!(super::find("VU13P").is_ok());
        assert!(super::find("nope").unwrap_err().to_string().contains("vu13p"));
    }
}
