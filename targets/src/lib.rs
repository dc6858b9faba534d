//! Sample probe targets for probebench: the behaviour vocabulary and the servers that
//! act it out (HTTP(S), TCP and gRPC health), one process serving many pods.
