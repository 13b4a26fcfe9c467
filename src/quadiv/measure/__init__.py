"""quadiv.measure"""
