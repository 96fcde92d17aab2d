//! Integration tests, one module per theme.

mod cli;
mod corpus;
mod scenarios;
mod support;
