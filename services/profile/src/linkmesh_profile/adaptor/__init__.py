"""adaptor"""
