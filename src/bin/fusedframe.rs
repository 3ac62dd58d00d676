//! The `fusedframe` command line.
fn main() {}
