"""linkmesh connector for any custom lookup adaptor."""
