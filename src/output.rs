//! Human output on stderr: success/failure lines, spinners, prompts. stdout carries data only.
