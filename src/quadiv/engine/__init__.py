"""quadiv.engine"""
