//! The no-op mechanism: success at once, no I/O, no allocation. It exists so the
//! scheduler's own cost can be measured without any probe work behind it.

use super::outcome::Outcome;

pub fn run() -> Outcome {
    // `String::new()` does not allocate.
    Outcome::success(String::new())
}
