//! placeholder
/// x
#[derive(Debug)] pub struct Engine;
/// x
#[derive(Debug)] pub struct RunReport;
