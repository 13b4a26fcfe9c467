"""quadiv.select"""
