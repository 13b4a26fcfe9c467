"""quadiv.front"""
