//! HTTP routes, one folder per resource and one file per endpoint (or per small family of
//! endpoints that share a body shape).

pub mod audit;
pub mod complaints;
pub mod health;
pub mod hostels;
pub mod ws;
