"""ibsim: a simulated IB Gateway speaking the TWS API socket protocol."""
