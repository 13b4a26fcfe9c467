"""quadiv.embed"""
