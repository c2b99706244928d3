//! Engine configuration: the fiat markets it serves and the ranking policy knobs.

/// One fiat market the engine matches orders in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Market {
    /// ISO-style currency code as used in commands, e.g. `"CNY"`.
    pub fiat: String,
    /// Number of decimals of the fiat's minor unit (CNY 2, JPY 0, …); at most
    /// [`MAX_FIAT_SCALE`](crate::MAX_FIAT_SCALE).
    pub scale: u32,
}

impl Market {
    /// A market for `fiat` whose minor unit has `scale` decimals.
    pub fn new(fiat: impl Into<String>, scale: u32) -> Self {
        Self {
            fiat: fiat.into(),
            scale,
        }
    }
}

/// Everything [`Engine::new`](crate::Engine::new) needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// Markets served, one per fiat code. The order is irrelevant to matching.
    pub markets: Vec<Market>,
    /// Rates whose difference is below this many basis points may share a
    /// tolerance band and are then served round-robin (see the crate docs for
    /// the exact band grid). `0` ranks every distinct rate on its own.
    /// At most 10 000.
    pub rate_tolerance_bps: u32,
    /// When set, no acceptor ever holds two open orders with the same fiat
    /// amount: a newer order is nudged up by one minor unit at a time until
    /// its amount is unique for that acceptor and fiat.
    pub distinct_fiat_amounts: bool,
}

impl EngineConfig {
    /// A configuration with the given markets, a 10 bp tolerance and the
    /// distinct-amount policy off.
    pub fn new(markets: Vec<Market>) -> Self {
        Self {
            markets,
            rate_tolerance_bps: 10,
            distinct_fiat_amounts: false,
        }
    }
}
