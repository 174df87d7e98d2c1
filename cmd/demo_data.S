/* cmd/demo_data.S: the demo corpus and its configuration, linked into the
 * binary so that `skarbnica demo` works from any directory. */
	.section .rodata
	.balign 16
	.global sk_demo_mbox_2024, sk_demo_mbox_2024_end
sk_demo_mbox_2024:
	.incbin "demo/praktyki-2024.mbox"
sk_demo_mbox_2024_end:
	.byte 0
	.balign 16
	.global sk_demo_mbox_2025, sk_demo_mbox_2025_end
sk_demo_mbox_2025:
	.incbin "demo/praktyki-2025.mbox"
sk_demo_mbox_2025_end:
	.byte 0
	.balign 16
	.global sk_demo_conf, sk_demo_conf_end
sk_demo_conf:
	.incbin "demo/skarbnica.conf"
sk_demo_conf_end:
	.byte 0
	.balign 16
	.global sk_demo_curation, sk_demo_curation_end
sk_demo_curation:
	.incbin "demo/curation.txt"
sk_demo_curation_end:
	.byte 0
	.section .note.GNU-stack,"",@progbits
