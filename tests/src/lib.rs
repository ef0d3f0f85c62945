//! The server harness and the integration tests of respec (real servers arrive with the runtime issue).
