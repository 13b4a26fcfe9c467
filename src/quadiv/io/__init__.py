"""quadiv.io"""
