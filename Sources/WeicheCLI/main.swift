print("weiche")
