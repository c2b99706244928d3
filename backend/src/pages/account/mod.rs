//! Pages every visitor uses: log in (with the second step when 2FA is on), log out, the
//! language switch.

pub mod http;
pub mod model;
