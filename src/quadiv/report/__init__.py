"""quadiv.report"""
