"""linkmesh development stack: the pieces behind `make run`, `make proto` and the end-to-end tests."""
