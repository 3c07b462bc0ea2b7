"""Invoice formats beside raw XML: Factur-X/ZUGFeRD PDFs, structured JSON, archives; content sniffing.

Pure functions over bytes: services call them, nothing here touches AWS.
"""
