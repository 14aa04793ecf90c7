"""linkmesh Lookup connector for ReturnLogic."""
