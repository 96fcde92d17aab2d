//! Integration tests, one module per theme.

mod adversarial;
mod cli;
mod corpus;
mod functions;
mod generated;
mod json_contract;
mod properties;
mod scenarios;
mod support;
