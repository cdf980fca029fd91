//! TLS, as Crowsnest checks and speaks it: what a balancer's certificate means (`evaluate`, pure),
//! the handshake and HTTPS GET of a check (`probe`), and a CA made on the spot for the lab and
//! the tests (`authority`).

pub mod authority;
pub mod evaluate;
pub mod probe;
