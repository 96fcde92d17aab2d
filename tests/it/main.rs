//! Integration tests, one module per theme.

mod cli;
mod corpus;
mod json_contract;
mod scenarios;
mod support;
