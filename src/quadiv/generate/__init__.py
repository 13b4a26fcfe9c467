"""quadiv.generate"""
