/*
 * fuzz_mls — the clear MLS header parser (src/mls), which the delivery
 * service runs on every commit, Welcome, KeyPackage and application message
 * a client sends. Checks that what parses is self-consistent.
 */
#include <stdint.h>
#include <stdlib.h>

#include "mls/mls_hdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mls_hdr h;

	if (mls_hdr_parse(data, size, &h) != 0)
		return 0;
	if (h.wire_format == MLS_WF_PUBLIC || h.wire_format == MLS_WF_PRIVATE) {
		if (!h.group_id || h.group_id_len == 0 ||
		    h.group_id_len > MLS_GROUP_ID_MAX ||
		    h.group_id < data || h.group_id + h.group_id_len > data + size ||
		    h.content_type < MLS_CT_APPLICATION ||
		    h.content_type > MLS_CT_COMMIT)
			abort();
	}
	return 0;
}
