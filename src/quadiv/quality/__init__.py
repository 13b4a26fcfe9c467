"""quadiv.quality"""
