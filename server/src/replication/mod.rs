//! PostgreSQL replication: what each node says about itself and its peers ([`observe`]), what
//! that means ([`evaluate`], pure), and the rounds that keep it fresh ([`engine`]).

pub mod engine;
pub mod evaluate;
pub mod observe;
