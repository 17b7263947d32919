//! The hardware/model engine: roofline physics of serving and training language models.
