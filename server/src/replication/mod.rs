//! PostgreSQL replication: what each node says about itself and its peers ([`observe`]), what
//! that means ([`evaluate`], pure), the rounds that keep it fresh ([`engine`]) and the page's data ([`view`]).

pub mod engine;
pub mod evaluate;
pub mod observe;
pub mod view;
